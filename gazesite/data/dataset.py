"""The gazesite dataset file: face crops with the screen point each one looked at.

Format (version 1), a JSON object, optionally gzip-compressed (``.gz``)::

    {
      "format": "gazesite-dataset",
      "version": 1,
      "crop_size": 50,                  # S: every crop is S x S, grayscale
      "count": N,
      "crops": "<base64>",              # N*S*S uint8 bytes, crop after crop, row-major
      "targets": [[x, y], ...],         # N pairs, 0..1 of the screen, (0, 0) top-left
      "metadata": {
        "source": "synthetic" | "browser" | ...,
        "pipeline_version": 1,
        "screen": {"width": px, "height": px} | null,
        ...                             # free-form extras are kept
      }
    }

JSON with base64 was chosen so the browser can write the same file with
``btoa`` and ``JSON.stringify``, no library needed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from gazesite.bounded import GZIP_MAGIC, MAX_DATASET_BYTES, InputError, gunzip_bounded, parse_json, read_bounded
from gazesite.errors import DatasetError
from gazesite.track.pipeline import CROP_SIZE_RANGE, PIPELINE, PIPELINE_VERSION

FORMAT_NAME = "gazesite-dataset"
FORMAT_VERSION = 1


@dataclass
class Dataset:
    """Crops (N, S, S) uint8 with targets (N, 2) float32 in 0..1 of the screen."""

    crops: np.ndarray
    targets: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.crops = np.ascontiguousarray(self.crops, dtype=np.uint8)
        self.targets = np.ascontiguousarray(self.targets, dtype=np.float32)
        if self.crops.ndim != 3 or self.crops.shape[1] != self.crops.shape[2]:
            raise ValueError(f"crops must have shape (N, S, S), got {self.crops.shape}")
        if self.targets.shape != (len(self.crops), 2):
            raise ValueError(f"targets must have shape ({len(self.crops)}, 2), got {self.targets.shape}")

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def crop_size(self) -> int:
        """Side length of the square crops."""
        return int(self.crops.shape[1])

    @classmethod
    def concatenate(cls, parts: list[Dataset], metadata: dict[str, Any]) -> Dataset:
        """Join datasets of the same crop size into one."""
        return cls(np.concatenate([p.crops for p in parts]), np.concatenate([p.targets for p in parts]), metadata)


def dataset_to_json(dataset: Dataset) -> dict[str, Any]:
    """Return the JSON object that stores a dataset."""
    metadata = {"pipeline_version": PIPELINE_VERSION, "screen": None, **dataset.metadata}
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "crop_size": dataset.crop_size,
        "count": len(dataset),
        "crops": base64.b64encode(dataset.crops.tobytes()).decode("ascii"),
        "targets": [[round(float(x), 6), round(float(y), 6)] for x, y in dataset.targets],
        "metadata": metadata,
    }


def save_dataset(dataset: Dataset, path: Path) -> None:
    """Write a dataset file; a ``.gz`` suffix compresses it."""
    text = json.dumps(dataset_to_json(dataset), separators=(",", ":"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".gz":
        # No name and mtime=0 keep the file byte-identical for identical data.
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(text.encode())
    else:
        tmp.write_text(text)
    tmp.replace(path)  # never leave a half-written dataset behind


def load_dataset(path: Path) -> Dataset:
    """Read and validate a dataset file; raise DatasetError naming the file and the problem."""
    path = Path(path)
    expected = f"expected a {FORMAT_NAME} JSON file (see the docs, reference/dataset.md)"
    if not path.exists():
        raise DatasetError(f"dataset {path} does not exist: {expected}")
    try:
        raw = read_bounded(path, MAX_DATASET_BYTES)
        if raw.startswith(GZIP_MAGIC):
            raw = gunzip_bounded(raw, MAX_DATASET_BYTES)
        obj = parse_json(raw)
    except InputError as exc:
        raise DatasetError(f"dataset {path} {exc}: {expected}") from None
    return dataset_from_json(obj, str(path))


def dataset_from_json(obj: Any, name: str) -> Dataset:
    """Validate a parsed dataset object; ``name`` is used in error messages."""

    def fail(problem: str) -> DatasetError:
        return DatasetError(f"dataset {name}: {problem}")

    if not isinstance(obj, dict) or obj.get("format") != FORMAT_NAME:
        raise fail(f'"format" must be "{FORMAT_NAME}"')
    if not is_integer(obj.get("version")) or obj["version"] != FORMAT_VERSION:
        raise fail(f'unsupported "version" {obj.get("version")!r}: this gazesite reads version {FORMAT_VERSION}')
    size, count = obj.get("crop_size"), obj.get("count")
    low, high = CROP_SIZE_RANGE
    if not is_integer(size) or not low <= size <= high:
        raise fail(f'"crop_size" must be an integer from {low} to {high}, got {size!r}')
    if not is_integer(count) or count < 0:
        raise fail(f'"count" must be a non-negative integer, got {count!r}')
    if count == 0:
        raise fail("contains no samples (count is 0): record or generate at least one")
    try:
        pixels = base64.b64decode(obj.get("crops", ""), validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise fail('"crops" is not valid base64') from None
    if len(pixels) != count * size * size:
        raise fail(f'"crops" holds {len(pixels)} bytes, expected count*crop_size^2 = {count * size * size}')
    targets = obj.get("targets")
    if not isinstance(targets, list) or len(targets) != count or not all(isinstance(t, list) and len(t) == 2 for t in targets):
        raise fail(f'"targets" must be {count} [x, y] pairs')
    if not all(is_number(value) for pair in targets for value in pair):
        raise fail('"targets" must be a list of [x, y] number pairs (JSON numbers, not strings or booleans)')
    try:
        target_array = np.asarray(targets, dtype=np.float64)
    except OverflowError:  # an integer beyond float range: not finite either
        target_array = np.full((count, 2), np.inf)
    if not np.all(np.isfinite(target_array)) or target_array.min() < 0 or target_array.max() > 1:
        raise fail('"targets" must be finite numbers from 0 to 1 (fractions of the screen)')
    metadata = obj.get("metadata", {})
    if not isinstance(metadata, dict):
        raise fail('"metadata" must be an object')
    crops = np.frombuffer(pixels, dtype=np.uint8).reshape(count, size, size)
    return Dataset(crops, target_array.astype(np.float32), metadata)


def is_integer(value: Any) -> TypeGuard[int]:
    """True for a JSON integer; JSON's true and false are not numbers, though Python's bool is an int."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for a JSON number (integer or real), never a boolean or a string."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def summarize(dataset: Dataset) -> dict[str, Any]:
    """Return a short JSON-ready description of a dataset for model metadata."""
    return {
        "samples": len(dataset),
        "crop_size": dataset.crop_size,
        "source": dataset.metadata.get("source", "unknown"),
        "target_mean": [round(float(v), 4) for v in dataset.targets.mean(axis=0)],
    }


def mean_euclidean_error(predicted: np.ndarray, targets: np.ndarray) -> float:
    """Mean distance between predicted and true points, in screen fractions."""
    distance = np.linalg.norm(np.asarray(predicted, np.float64) - np.asarray(targets, np.float64), axis=1)
    return float(distance.mean()) if len(distance) else math.nan


def check_crop_size(dataset: Dataset, name: str, expected: int = PIPELINE.crop_size) -> None:
    """Raise DatasetError if the dataset's crops are not the size the model expects."""
    if dataset.crop_size != expected:
        raise DatasetError(f"dataset {name}: crop_size is {dataset.crop_size}, the model expects {expected}")
