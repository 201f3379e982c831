"""inference.py alone on ResNet-50 at 224x224 on CPU. Run by bench/local.bench.ts and bench/sizing.bench.ts;
prints one JSON object.

    python3 bench/local-resnet.py model-dir <model-dir> <images-dir> <images>
        writes a course-style model directory (model.pth, and code/ as repack_model.py adds it) and <images>
        photo-like JPEGs to serve
    python3 bench/local-resnet.py split <model-dir> <images-url> <images> <rounds>
        in one process, with the same torch threads and the same inputs throughout:
        - cold start: model_fn (load, prepare, warm up) and the first prediction after it;
        - forward passes alone at batch 1, 2, 4 and 8, bare eager nn.Module against the prepared model, in
          alternating rounds, best round of each;
        - per image: fetch (from <images-url>, a host in another process), decode, preprocess, forward.

The model is an untrained ResNet-50 (weights=None) saved as model.pth, so nothing is downloaded; an untrained
network costs the same per forward pass as a trained one. On a shared machine every figure is noisy: stages are
reported as the median and the best of their samples.
"""
from __future__ import annotations

import io
import json
import os
import random
import statistics
import sys
import time
from typing import Callable, Dict, List

SCRIPTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training-scripts")
sys.path.insert(0, SCRIPTS_DIR)
os.environ["IMAGE_FETCH_ALLOW_PRIVATE"] = "true"
# One worker in this process, so model_fn takes every core, as the bare eager model does.
os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"] = "1"
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import inference  # noqa: E402
from classifier.artifacts import CODE_DIR, copy_code, load_model_dir  # noqa: E402
from classifier.data import eval_transform  # noqa: E402
from classifier.model import build_model  # noqa: E402
from classifier.prepare import set_threads  # noqa: E402

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


def write_model_dir(model_dir: str, images_dir: str, count: int) -> dict:
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(images_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.save(build_model("resnet50", 133, pretrained=False).state_dict(), os.path.join(model_dir, "model.pth"))
    # What repack_model.py adds to a course model before any endpoint can serve it.
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


def main(argv: List[str]) -> None:
    command, *args = argv
    if command == "model-dir":
        result = write_model_dir(args[0], args[1], int(args[2]))
    elif command == "split":
        result = split(args[0], args[1], int(args[2]), int(args[3]))
    else:
        raise SystemExit(f"unknown command {command!r}; use model-dir or split")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
