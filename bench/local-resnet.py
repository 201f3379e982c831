"""inference.py alone on ResNet-50 at 224x224 on CPU: per image, the time in fetch, decode, preprocess and the
forward pass, from a loopback image host. Run by bench/local.bench.ts; prints one JSON object.

    python3 bench/local-resnet.py <images> <warmup>

The model is an untrained ResNet-50 (weights=None) saved as a course-style model.pth, so nothing is
downloaded; an untrained network costs the same per forward pass as a trained one.
"""
import io
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRIPTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training-scripts")
sys.path.insert(0, SCRIPTS_DIR)
os.environ["IMAGE_FETCH_ALLOW_PRIVATE"] = "true"

import torch  # noqa: E402
from PIL import Image  # noqa: E402

import inference  # noqa: E402
from classifier.data import eval_transform  # noqa: E402
from classifier.model import build_model  # noqa: E402


def photo_like_jpeg(seed: int) -> bytes:
    """A 500x375 JPEG (the size of a typical dataset photo) with smooth gradients and noise, so it compresses
    and decodes like a photograph rather than a flat colour."""
    rng = random.Random(seed)
    small = Image.new("RGB", (50, 38))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(50 * 38)])
    image = small.resize((500, 375), Image.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def main(count: int, warmup: int) -> None:
    torch.set_num_threads(os.cpu_count() or 1)
    images = {f"/{i}.jpg": photo_like_jpeg(i) for i in range(count + warmup)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = images[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    host = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{host.server_address[1]}"

    with tempfile.TemporaryDirectory() as model_dir:
        torch.save(build_model("resnet50", 133, pretrained=False).state_dict(), os.path.join(model_dir, "model.pth"))
        loaded = inference.model_fn(model_dir)
    config = loaded.config
    transform = eval_transform(config.image_size, config.mean, config.std)

    stages = {"fetch": [], "decode": [], "preprocess": [], "forward": []}
    for index in range(count + warmup):
        t0 = time.perf_counter()
        data = inference.fetch_image(f"{base}/{index}.jpg")
        t1 = time.perf_counter()
        image = inference.decode_image(data)
        t2 = time.perf_counter()
        tensor = transform(image).unsqueeze(0)
        t3 = time.perf_counter()
        with torch.inference_mode():
            loaded.model(tensor)
        t4 = time.perf_counter()
        if index >= warmup:
            for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                stages[name].append(seconds * 1000)
    host.shutdown()
    print(json.dumps({
        "images": count,
        "imageSize": config.image_size,
        "threads": torch.get_num_threads(),
        "medianMs": {name: statistics.median(values) for name, values in stages.items()},
        "meanMs": {name: statistics.fmean(values) for name, values in stages.items()},
    }))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
