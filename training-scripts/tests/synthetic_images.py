"""Tiny, trivially separable image data: noisy solid-colour squares in an ImageFolder layout. Shared by the
pytest fixtures and by the local-mode end-to-end tests (tools/local/demo_images.py)."""
from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Dict, Mapping, Tuple

from PIL import Image

# Numbered folders like the course's "001.Affenpinscher", so label clean-up is exercised too.
CLASS_COLOURS: Dict[str, Tuple[int, int, int]] = {
    "001.red": (220, 30, 30),
    "002.green": (30, 200, 40),
    "003.blue": (30, 40, 220),
}
LABELS = [folder.split(".", 1)[1] for folder in CLASS_COLOURS]
IMAGES_PER_SPLIT = {"train": 8, "valid": 4, "test": 4}
IMAGE_SIZE = 32


def colour_image(colour: Tuple[int, int, int], seed: int, size: int = IMAGE_SIZE) -> Image.Image:
    """A noisy solid-colour square: trivially separable by colour, yet no two images are identical."""
    rng = random.Random(seed)
    pixels = [
        tuple(max(0, min(255, channel + rng.randint(-40, 40))) for channel in colour)
        for _ in range(size * size)
    ]
    image = Image.new("RGB", (size, size))
    image.putdata(pixels)
    return image


def image_bytes(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def make_dataset(root: Path, images_per_split: Mapping[str, int] = IMAGES_PER_SPLIT, size: int = IMAGE_SIZE) -> Path:
    """`images_per_split` images per class in each split; the defaults are the tests' tiny set, the bench asks
    for more and larger ones."""
    seed = 0
    for split, count in images_per_split.items():
        for folder, colour in CLASS_COLOURS.items():
            directory = root / split / folder
            directory.mkdir(parents=True)
            for index in range(count):
                seed += 1
                fmt, ext = ("JPEG", "jpg") if index % 2 == 0 else ("PNG", "png")
                (directory / f"{index}.{ext}").write_bytes(image_bytes(colour_image(colour, seed, size), fmt))
    return root
