"""inference.py and its model on ResNet-50 at 224x224 on CPU. Run by bench/local.bench.ts, bench/serving.bench.ts and
bench/sizing.bench.ts; prints one JSON object.

    python3 bench/local-resnet.py model-dir <model-dir> <images-dir> <images>
        writes a course-style model directory (model.pth, with the project's code/ as repack_model.py adds it) and
        <images> photo-like JPEGs to serve
    python3 bench/local-resnet.py int8-dir <model-dir> <int8-dir> <images>
        copies the model directory and gives it what train.py writes at the end of training: the int8 calibration
        (on <images> generated photos) and its report, measured on as many others against the fp32 model's own top-1
    python3 bench/local-resnet.py split <model-dir> <images-url> <images> <rounds>
        in one process, with the same torch threads and the same inputs throughout:
        - cold start: model_fn (load, prepare, warm up) and the first prediction after it;
        - forward passes alone at batch 1, 2, 4 and 8, bare eager nn.Module against the prepared model, in
          alternating rounds, best round of each;
        - per image: fetch (from <images-url>, a host in another process), decode, preprocess, forward.
    python3 bench/local-resnet.py candidates <model-dir> <images> <rounds>
        every way of serving the model, in one process on the same threads and inputs, in alternating rounds:
        eager fp32, TorchScript, torch.compile, int8 (FX graph mode, eager and TorchScript; PT2E with the x86 Inductor
        quantizer, compiled) and bf16 where the CPU has it; images/s at batch 1 and 8, p50/p99 at batch 1, the time
        (and CPU time) to prepare each, and each one's top-1 agreement with eager fp32. BENCH_CANDIDATES (names,
        comma-separated) runs a subset.

The model is an untrained ResNet-50 (weights=None) saved as model.pth, so nothing is downloaded; an untrained
network costs the same per forward pass as a trained one, but its answers say nothing about a trained one's: the
agreement figures here show that a candidate computes the same function, the training-time report on real data
decides what ships. On a shared machine every figure is noisy: stages are reported as the median and the best of
their samples.
"""
from __future__ import annotations

import copy
import io
import json
import os
import random
import resource
import shutil
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

SCRIPTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training-scripts")
sys.path.insert(0, SCRIPTS_DIR)
os.environ["IMAGE_FETCH_ALLOW_PRIVATE"] = "true"
# One worker in this process, so model_fn takes every core, as the bare eager model does.
os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"] = "1"
import warnings  # noqa: E402

import torch  # noqa: E402
from PIL import Image  # noqa: E402

# Compiling and quantizing ResNet-50 prints a few hundred notices from torch's own internals; the tables are the output.
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.")
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.")

import inference  # noqa: E402
from classifier import quantize  # noqa: E402
from classifier.artifacts import CODE_DIR, copy_code, course_config, load_model_dir  # noqa: E402
from classifier.config import QuantizationPolicy  # noqa: E402
from classifier.data import eval_transform  # noqa: E402
from classifier.model import build_model  # noqa: E402
from classifier.prepare import set_threads, torchscript_optimise  # noqa: E402

FORWARD_BATCH_SIZES = (1, 2, 4, 8)


def photo_like_jpeg(seed: int) -> bytes:
    """A 500x375 JPEG (the size of a typical dataset photo, ~50 KB) with smooth gradients and noise, so it
    compresses and decodes like a photograph rather than a flat colour."""
    rng = random.Random(seed)
    small = Image.new("RGB", (50, 38))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(50 * 38)])
    image = small.resize((500, 375), Image.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


# Seeds apart from the served images' (0..n): calibration as a validation split, measurement as a test split, and
# the images the untrained network's statistics are fitted to.
CALIBRATION_SEED = 10_000
MEASUREMENT_SEED = 20_000
CONDITIONING_SEED = 30_000


def conditioned_resnet50() -> torch.nn.Module:
    """ResNet-50 with the course's head, untrained, but with its batch-norm statistics and head inputs fitted to
    photo-like images: straight from initialisation the network puts every image in one class, which would make any
    agreement figure meaningless; fitted, it spreads generated photos over many classes with small margins, a hard case
    for int8. The forward pass costs the same."""
    model = build_model("resnet50", 133, pretrained=False)
    images = generated_inputs(course_config(), 32, CONDITIONING_SEED)
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # a plain average over every batch
    with torch.no_grad():
        for batch in images.split(16):
            model(batch)
    model.eval()
    head, model.fc = model.fc, torch.nn.Identity()
    with torch.no_grad():
        features = torch.cat([model(batch) for batch in images.split(16)])
        for layer in (head[0], head[2]):
            mean, std = features.mean(0), features.std(0) + 1e-6
            layer.weight.div_(std)
            layer.bias.sub_(layer.weight @ mean)
            features = torch.relu(layer(features)) if layer is head[0] else layer(features)
    model.fc = head
    return model


def write_model_dir(model_dir: str, images_dir: str, count: int) -> dict:
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(images_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.save(conditioned_resnet50().state_dict(), os.path.join(model_dir, "model.pth"))
    # The course's model.pth, repacked with the project's code as training.mode existing requires: the toolkit's own
    # model_fn would otherwise try to load model.pth as TorchScript.
    copy_code(os.path.join(model_dir, CODE_DIR))
    names = []
    for index in range(count):
        name = f"{index}.jpg"
        with open(os.path.join(images_dir, name), "wb") as handle:
            handle.write(photo_like_jpeg(index))
        names.append(name)
    return {"modelDir": model_dir, "imagesDir": images_dir, "images": names}


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _summary(samples_ms: List[float]) -> Dict[str, float]:
    return {"median": statistics.median(samples_ms), "best": min(samples_ms)}


def split(model_dir: str, images_url: str, count: int, rounds: int) -> dict:
    load_at_start = os.getloadavg()[0]
    threads = len(os.sched_getaffinity(0))
    set_threads(threads)
    urls = [f"{images_url}/{index}.jpg" for index in range(count)]

    started = time.perf_counter()
    served = inference.model_fn(model_dir)
    model_fn_seconds = time.perf_counter() - started
    first = inference.input_fn(json.dumps({"url": urls[0]}), "application/json")
    first_prediction_ms = _seconds(lambda: inference.output_fn(inference.predict_fn(first, served))) * 1000

    eager_load_seconds = _seconds(lambda: load_model_dir(model_dir))
    eager = load_model_dir(model_dir).model  # the bare nn.Module, as model_fn returned it before preparation
    config = served.config
    transform = eval_transform(config.image_size, config.mean, config.std)

    stages: Dict[str, List[float]] = {"fetch": [], "decode": [], "preprocess": [], "forward": []}
    inputs = []
    for url in urls:
        t0 = time.perf_counter()
        data = inference.fetch_image(url)
        t1 = time.perf_counter()
        image = inference.decode_image(data)
        t2 = time.perf_counter()
        tensor = transform(image).unsqueeze(0)
        t3 = time.perf_counter()
        with torch.inference_mode():
            served.forward(tensor)
        t4 = time.perf_counter()
        for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            stages[name].append(seconds * 1000)
        inputs.append(tensor)

    with torch.inference_mode():
        batches = {size: [torch.cat(inputs[i:i + size]) for i in range(0, len(inputs) - size + 1, size)]
                   for size in FORWARD_BATCH_SIZES}
        models = {"eager": eager, "prepared": served.forward}
        # Each model's first pass at each shape, outside the timing: eager's very first, and the prepared one's
        # profiling run at the shapes model_fn did not warm up.
        for forward in models.values():
            for size in FORWARD_BATCH_SIZES:
                forward(batches[size][0])
        best: Dict[str, Dict[str, float]] = {name: {} for name in models}
        for _ in range(rounds):
            for size in FORWARD_BATCH_SIZES:
                for name, forward in models.items():
                    seconds = _seconds(lambda: [forward(batch) for batch in batches[size]])
                    rate = len(batches[size]) * size / seconds
                    best[name][str(size)] = max(best[name].get(str(size), 0.0), rate)

    return {
        "threads": threads,
        "images": count,
        "rounds": rounds,
        "imageBytes": len(inference.fetch_image(urls[0])),
        "preparation": {"method": served.preparation.method, "fallbackReason": served.preparation.fallback_reason,
                        "prepareSeconds": served.preparation.prepare_seconds,
                        "warmupSeconds": served.preparation.warmup_seconds},
        "coldStart": {"modelFnSeconds": model_fn_seconds, "eagerLoadSeconds": eager_load_seconds,
                      "firstPredictionMs": first_prediction_ms},
        "imagesPerSecond": best,
        "loadAverage": {"start": load_at_start, "end": os.getloadavg()[0]},
        "stagesMs": {name: _summary(values) for name, values in stages.items()},
    }


def generated_inputs(config: Any, count: int, first_seed: int) -> torch.Tensor:
    """`count` photo-like images as the endpoint preprocesses them (decoded JPEG, resized, normalised)."""
    transform = eval_transform(config.image_size, config.mean, config.std)
    return torch.stack([transform(inference.decode_image(photo_like_jpeg(seed)))
                        for seed in range(first_seed, first_seed + count)])


# The benches measure int8's speed whatever this network's agreement: the thresholds decide for a trained model on its
# own test split, which a generated network has not got. What the default thresholds would say is reported beside it.
SPEED_ONLY = QuantizationPolicy(min_agreement=0.0, max_accuracy_drop=1.0)


def write_int8_dir(model_dir: str, int8_dir: str, count: int) -> dict:
    """What train.py leaves in the model directory, for this untrained network: the calibration on generated photos
    and the report, its "accuracy" being agreement with the fp32 model's own top-1 (there are no true labels), under
    SPEED_ONLY thresholds; "defaultVerdict" is what the default thresholds would decide."""
    set_threads(len(os.sched_getaffinity(0)))
    if os.path.exists(int8_dir):
        shutil.rmtree(int8_dir)
    shutil.copytree(model_dir, int8_dir)
    loaded = load_model_dir(int8_dir)
    calibration = generated_inputs(loaded.config, count, CALIBRATION_SEED)
    measurement = generated_inputs(loaded.config, count, MEASUREMENT_SEED)
    with torch.inference_mode():
        own_top1 = torch.cat([loaded.model(batch).argmax(dim=1) for batch in measurement.split(8)])
    started = time.perf_counter()
    report = quantize.quantize_for_serving(
        loaded.model, loaded.config.image_size, calibration=calibration.split(8),
        test=list(zip(measurement.split(8), own_top1.split(8))), policy=SPEED_ONLY, model_dir=int8_dir)
    test = report.test or {}
    verdict = quantize.decide(quantize.Evaluation(images=test.get("images", 0), fp32_accuracy=test.get("fp32Accuracy", 0.0),
                                                  int8_accuracy=test.get("int8Accuracy", 0.0),
                                                  agreement=test.get("agreement", 0.0)), QuantizationPolicy())
    return {"modelDir": int8_dir, "seconds": time.perf_counter() - started, "report": report.to_json(),
            "distinctClasses": len(set(own_top1.tolist())), "defaultVerdict": {"serve": verdict[0], "reason": verdict[1]}}


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (Inductor's compiler runs as children)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu_features() -> Dict[str, Any]:
    flags: List[str] = []
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
                elif line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"model": model, "capability": torch.backends.cpu.get_cpu_capability(),
            "avx512": "avx512f" in flags, "vnni": "avx512_vnni" in flags or "avx_vnni" in flags,
            "bf16": "avx512_bf16" in flags or "amx_bf16" in flags, "amx": "amx_tile" in flags}


def c_compiler() -> Optional[str]:
    return shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++")


Forward = Callable[[torch.Tensor], torch.Tensor]


def _compiled(model: torch.nn.Module, shapes: List[torch.Tensor]) -> Forward:
    """torch.compile with Inductor's freezing (weights as constants, conv weights pre-packed), compiled for every shape
    it is timed at: the compile happens on the first call at each, so those calls are part of its preparation."""
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True
    compiled = torch.compile(model)
    with torch.no_grad():
        for example in shapes:
            compiled(example)
    return compiled


def _pt2e_int8(model: torch.nn.Module, calibration: torch.Tensor, shapes: List[torch.Tensor]) -> Forward:
    from torch.ao.quantization.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torch.ao.quantization.quantizer import x86_inductor_quantizer as xiq

    quantizer = xiq.X86InductorQuantizer().set_global(xiq.get_default_x86_inductor_quantization_config())
    exported = torch.export.export_for_training(copy.deepcopy(model), (shapes[0],)).module()
    prepared = prepare_pt2e(exported, quantizer)
    with torch.no_grad():
        for batch in calibration.split(8):
            prepared(batch)
    return _compiled(convert_pt2e(prepared), shapes)


def _fx_calibration(model: torch.nn.Module, calibration: torch.Tensor) -> Dict[str, torch.Tensor]:
    """What train.py does once: observers over the calibration images; their statistics are what ships."""
    observed = quantize.observed_model(model, calibration[:1])
    quantize.calibrate(observed, calibration.split(8))
    return quantize.observer_state(observed)


def _bf16(model: torch.nn.Module) -> Forward:
    def forward(batch: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return model(batch).float()
    return forward


CANDIDATES = ("eager-fp32", "torchscript-fp32", "compile-fp32", "fx-int8", "fx-int8-torchscript", "pt2e-int8-compile",
              "bf16")
BATCH = 8


def candidates(model_dir: str, count: int, rounds: int) -> dict:
    load_at_start = os.getloadavg()[0]
    threads = len(os.sched_getaffinity(0))
    set_threads(threads)
    wanted = [name.strip() for name in os.environ.get("BENCH_CANDIDATES", ",".join(CANDIDATES)).split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(CANDIDATES))
    if unknown:
        raise SystemExit(f"BENCH_CANDIDATES names {', '.join(unknown)}; known: {', '.join(CANDIDATES)}")
    features = cpu_features()
    compiler = c_compiler()

    started, cpu = time.perf_counter(), _cpu_seconds()
    loaded = load_model_dir(model_dir)
    load = {"seconds": time.perf_counter() - started, "cpuSeconds": _cpu_seconds() - cpu}
    eager = loaded.model
    served = generated_inputs(loaded.config, count, 0)
    calibration = generated_inputs(loaded.config, 32, CALIBRATION_SEED)
    agreement_set = generated_inputs(loaded.config, 32, MEASUREMENT_SEED)
    shapes = [served[:1], served[:BATCH]]
    observers: Dict[str, torch.Tensor] = {}
    calibration_time: Dict[str, float] = {}
    if any(name.startswith("fx-int8") for name in wanted):
        started, cpu = time.perf_counter(), _cpu_seconds()
        observers = _fx_calibration(eager, calibration)
        calibration_time = {"seconds": time.perf_counter() - started, "cpuSeconds": _cpu_seconds() - cpu,
                            "images": len(calibration)}

    def fx_int8() -> torch.nn.Module:
        # What model_fn does at a worker's start: the int8 model rebuilt from model.pth and the shipped statistics.
        return quantize.int8_from_observers(eager, observers, served[:1])

    builders: Dict[str, Tuple[str, Callable[[], Forward]]] = {
        "eager-fp32": ("eager fp32 nn.Module (the stock path)", lambda: eager),
        "torchscript-fp32": ("TorchScript fp32: trace, freeze, optimize_for_inference (today's default)",
                             lambda: torchscript_optimise(eager, served[:1])),
        "compile-fp32": ("torch.compile fp32 (Inductor, freezing)", lambda: _compiled(eager, shapes)),
        "fx-int8": ("int8 FX graph mode, x86 backend (fbgemm), head fp32", fx_int8),
        "fx-int8-torchscript": ("int8 FX graph mode + TorchScript (what model_fn serves)",
                                lambda: torchscript_optimise(fx_int8(), served[:1])),
        "pt2e-int8-compile": ("int8 PT2E, X86InductorQuantizer, torch.compile",
                              lambda: _pt2e_int8(eager, calibration, shapes)),
        "bf16": ("bf16 autocast", lambda: _bf16(eager)),
    }
    unavailable = {
        "compile-fp32": None if compiler else "no C++ compiler on PATH (Inductor needs one at load)",
        "pt2e-int8-compile": None if compiler else "no C++ compiler on PATH (Inductor needs one at load)",
        "bf16": None if features["bf16"] else "this CPU has no AVX-512 BF16 or AMX: bf16 would run emulated, slower than fp32",
    }
    results: Dict[str, Dict[str, Any]] = {}
    forwards: Dict[str, Forward] = {}
    for name in wanted:
        label, build = builders[name]
        entry: Dict[str, Any] = {"name": name, "label": label}
        results[name] = entry
        if unavailable.get(name):
            entry["unavailable"] = unavailable[name]
            continue
        started, cpu = time.perf_counter(), _cpu_seconds()
        try:
            forward = build()
            with torch.inference_mode():
                for example in shapes:  # first passes at both timed shapes (TorchScript profiles on its first)
                    forward(example)
        except Exception as error:  # noqa: BLE001 - a candidate that does not build is reported, not fatal
            entry["unavailable"] = f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"
            continue
        entry["prepare"] = {"seconds": time.perf_counter() - started, "cpuSeconds": _cpu_seconds() - cpu}
        forwards[name] = forward

    with torch.inference_mode():
        reference = torch.cat([eager(batch) for batch in agreement_set.split(BATCH)])
        distinct_classes = len(set(reference.argmax(dim=1).tolist()))
        for name, forward in forwards.items():
            logits = torch.cat([forward(batch).float() for batch in agreement_set.split(BATCH)])
            results[name]["agreement"] = float((logits.argmax(dim=1) == reference.argmax(dim=1)).float().mean())
            results[name]["maxLogitDifference"] = float((logits - reference).abs().max())
        # Alternating rounds: every candidate sees the same machine; best round for images/s, all samples for p50/p99.
        latencies: Dict[str, List[float]] = {name: [] for name in forwards}
        best: Dict[str, Dict[str, float]] = {name: {} for name in forwards}
        for _ in range(rounds):
            for name, forward in forwards.items():
                samples = []
                for index in range(count):
                    samples.append(_seconds(lambda: forward(served[index:index + 1])) * 1000)
                latencies[name].extend(samples)
                batches = served.split(BATCH)
                batched = _seconds(lambda: [forward(batch) for batch in batches])
                best[name]["1"] = max(best[name].get("1", 0.0), count / (sum(samples) / 1000))
                best[name][str(BATCH)] = max(best[name].get(str(BATCH), 0.0), count / batched)
    for name in forwards:
        ordered = sorted(latencies[name])
        results[name]["imagesPerSecond"] = best[name]
        results[name]["p50Ms"] = statistics.median(ordered)
        results[name]["p99Ms"] = ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]
    return {
        "threads": threads,
        "images": count,
        "rounds": rounds,
        "batch": BATCH,
        "agreementImages": len(agreement_set),
        # An agreement over images the network puts all in one class would say nothing.
        "agreementDistinctClasses": distinct_classes,
        "fxCalibration": calibration_time,
        "cpu": features,
        "compiler": compiler,
        "torch": torch.__version__,
        "load": load,
        "candidates": [results[name] for name in wanted],
        "loadAverage": {"start": load_at_start, "end": os.getloadavg()[0]},
    }


def main(argv: List[str]) -> None:
    command, *args = argv
    if command == "model-dir":
        result = write_model_dir(args[0], args[1], int(args[2]))
    elif command == "int8-dir":
        result = write_int8_dir(args[0], args[1], int(args[2]))
    elif command == "split":
        result = split(args[0], args[1], int(args[2]), int(args[3]))
    elif command == "candidates":
        result = candidates(args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown command {command!r}; use model-dir, int8-dir, split or candidates")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
