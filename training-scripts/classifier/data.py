"""Data loading from an ImageFolder layout: `<data_dir>/{train,valid,test}/<class>/<image>`.

Every failure names the path at fault: a missing directory, a split whose classes differ from `train/`,
an empty split, or a file that is not a readable image.

Across several hosts every host holds the whole dataset (the channel is FullyReplicated) and reads its own
share: training batches through a DistributedSampler reshuffled each epoch, evaluation through a ShardSampler
that sees each image exactly once over all hosts.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterator, List, Sequence, Tuple

from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, Sampler
from torchvision import datasets, transforms

SPLITS: Tuple[str, str, str] = ("train", "valid", "test")


class DataError(ValueError):
    """The training data is missing or unreadable; the message names the path."""


def display_label(folder_name: str) -> str:
    """The course's class folders are numbered and underscored ("002.Afghan_hound"); labels are spelled as
    contract.json spells them ("Afghan hound"), so a trained model and the Lambda name a class alike."""
    return re.sub(r"^\d+\.", "", folder_name).replace("_", " ")


def eval_transform(image_size: int, mean: Sequence[float], std: Sequence[float]) -> transforms.Compose:
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.ToTensor(),
            transforms.Normalize(mean, std),
        ]
    )


def train_transform(image_size: int, mean: Sequence[float], std: Sequence[float]) -> transforms.Compose:
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean, std),
        ]
    )


def _load_rgb(path: str) -> Image.Image:
    try:
        with open(path, "rb") as handle:
            image = Image.open(handle)
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise DataError(f"cannot read image {path}: {error}") from None


def _check_headers(dataset: datasets.ImageFolder) -> None:
    # Opening reads only the header: cheap, and a broken file fails the job now rather than mid-epoch.
    for path, _ in dataset.samples:
        try:
            with Image.open(path):
                pass
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
            raise DataError(f"cannot read image {path}: {error}") from None


def _image_folder(split_dir: str, transform: transforms.Compose) -> datasets.ImageFolder:
    if not os.path.isdir(split_dir):
        raise DataError(f"data directory {split_dir} does not exist or is not a directory")
    try:
        dataset = datasets.ImageFolder(split_dir, transform=transform, loader=_load_rgb)
    except (FileNotFoundError, OSError) as error:
        raise DataError(f"no images in {split_dir}: {error}") from None
    _check_headers(dataset)
    return dataset


class ShardSampler(Sampler[int]):
    """Every `world_size`-th index from `rank`, in order, without the padding DistributedSampler adds: each
    example is evaluated exactly once over all ranks, so summed losses and counts give exact means."""

    def __init__(self, dataset_size: int, world_size: int, rank: int) -> None:
        self.indices = list(range(rank, dataset_size, world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


@dataclass
class DataLoaders:
    train: DataLoader
    valid: DataLoader
    test: DataLoader
    class_folders: List[str]


def load_data(
    data_dir: str,
    image_size: int,
    mean: Sequence[float],
    std: Sequence[float],
    batch_size: int,
    num_workers: int,
    world_size: int = 1,
    rank: int = 0,
    seed: int = 0,
) -> DataLoaders:
    """`batch_size` is the batch of one optimisation step; over `world_size` processes each takes its share
    (rounded up), so a hyperparameter means the same on one host as on many."""
    if not os.path.isdir(data_dir):
        raise DataError(f"data directory {data_dir} does not exist or is not a directory")
    evaluation = eval_transform(image_size, mean, std)
    train_set = _image_folder(os.path.join(data_dir, "train"), train_transform(image_size, mean, std))
    valid_set = _image_folder(os.path.join(data_dir, "valid"), evaluation)
    test_set = _image_folder(os.path.join(data_dir, "test"), evaluation)
    for name, dataset in (("valid", valid_set), ("test", test_set)):
        if dataset.classes != train_set.classes:
            missing = sorted(set(train_set.classes) ^ set(dataset.classes))
            raise DataError(
                f"classes in {os.path.join(data_dir, name)} differ from {os.path.join(data_dir, 'train')}: "
                f"{', '.join(missing)}"
            )
    if len(train_set.classes) < 2:
        raise DataError(f"{os.path.join(data_dir, 'train')} has {len(train_set.classes)} class folder(s); need at least 2")

    rank_batch_size = -(-batch_size // world_size)
    train_sampler: Sampler[int] = (
        RandomSampler(train_set) if world_size == 1
        else DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    )

    def loader(dataset: datasets.ImageFolder, sampler: Sampler[int]) -> DataLoader:
        return DataLoader(dataset, batch_size=rank_batch_size, sampler=sampler, num_workers=num_workers)

    return DataLoaders(
        train=loader(train_set, train_sampler),
        valid=loader(valid_set, ShardSampler(len(valid_set), world_size, rank)),
        test=loader(test_set, ShardSampler(len(test_set), world_size, rank)),
        class_folders=list(train_set.classes),
    )
