"""Training datasets of synthetic faces: render chunks of frames (in worker processes), keep the crops the cascade finds."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from gazesite.data.dataset import Dataset
from gazesite.data.faces import DEFAULT_RENDERERS, check_training_renderers
from gazesite.track.pipeline import PIPELINE, PipelineSpec

log = logging.getLogger(__name__)


#: Frames are rendered in chunks of this size, each from its own seed, so the
#: result does not depend on how many worker processes render them.
CHUNK_SIZE = 128
#: Marks the seeds of a chunk's augmentation stream (apart from its frame stream,
#: so augmenting degrades the same frames instead of drawing others).
AUGMENT_TAG = 0xA06_3E7


@dataclass(frozen=True)
class SyntheticBatch:
    """Crops the cascade found in one chunk of rendered frames."""

    crops: np.ndarray
    targets: np.ndarray
    frames: int


def _render_chunk(
    seed: int,
    chunk: int,
    spec: PipelineSpec = PIPELINE,
    renderers: tuple[str, ...] = DEFAULT_RENDERERS,
    augment: bool = False,
    frames: int = CHUNK_SIZE,
) -> SyntheticBatch:
    # Imported here so worker processes pay only for what they use.
    from gazesite.data import faces
    from gazesite.data.faces.augment import augment as degrade
    from gazesite.track.pipeline import process_frame

    crops, targets = [], []
    # A fixed draw order: the same seed gives the same frames (the shipped model's data can be drawn again).
    stream = faces.samples(faces.chunk_renderer(chunk, renderers), faces.training_seed(seed, chunk))
    augment_rng = np.random.default_rng(np.random.SeedSequence([seed, chunk, AUGMENT_TAG])) if augment else None
    for _ in range(frames):
        sample = next(stream)
        frame = sample.frame if augment_rng is None else degrade(sample.frame, augment_rng)
        result = process_frame(frame, spec)
        if result.crop is not None:
            crops.append(result.crop)
            targets.append(sample.target)
    size = spec.crop_size
    return SyntheticBatch(np.array(crops, np.uint8).reshape(-1, size, size), np.array(targets, np.float32).reshape(-1, 2), frames)


def make_dataset(
    count: int,
    seed: int,
    workers: int | None = None,
    progress: bool = True,
    spec: PipelineSpec = PIPELINE,
    renderers: tuple[str, ...] = DEFAULT_RENDERERS,
    augment: bool = False,
) -> Dataset:
    """Render synthetic faces until ``count`` of them pass face detection (crops cut for ``spec``).

    Chunks take turns among ``renderers`` (training renderers only: a held-out
    renderer raises ValueError); ``augment`` degrades every frame as a cheap
    webcam would (gazesite.data.faces.augment). With the defaults the output is
    exactly what the shipped model was trained on.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    renderers = check_training_renderers(renderers)
    workers = workers or min(2, os.cpu_count() or 1)
    batches: list[SyntheticBatch] = []
    found = 0
    chunk = 0
    bar = tqdm(total=count, desc="synthetic faces", unit="crop", disable=not progress)
    # Workers come from a fork server, not a fork of this process: a fork copies whatever locks this process's other
    # threads (a progress bar's monitor, a test runner's) hold at that moment, and a worker stalled on one for ever.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) if workers > 1 else _InlineExecutor() as pool:
        while found < count:
            # Ask for the chunks we still need, assuming ~90% are detected.
            wanted = max(1, math.ceil((count - found) / (CHUNK_SIZE * 0.9)))
            chunks = range(chunk, chunk + wanted)
            # The chunk size travels with each chunk: a worker started by the fork server has only the module's default.
            jobs = ([seed] * wanted, chunks, [spec] * wanted, [renderers] * wanted, [augment] * wanted, [CHUNK_SIZE] * wanted)
            for batch in pool.map(_render_chunk, *jobs):
                batches.append(batch)
                found += len(batch.crops)
                bar.update(min(len(batch.crops), max(0, count - (found - len(batch.crops)))))
            chunk += wanted
    bar.close()
    frames = sum(b.frames for b in batches)
    crops = np.concatenate([b.crops for b in batches])[:count]
    targets = np.concatenate([b.targets for b in batches])[:count]
    rate = found / frames
    log.info("Haar cascade found a face in %d of %d synthetic frames (%.1f%%)", found, frames, 100 * rate)
    metadata = {"source": "synthetic", "seed": seed, "frames_rendered": frames, "detection_rate": round(rate, 4)}
    return Dataset(crops, targets, {**metadata, "renderers": list(renderers), "augment": augment})


_T = TypeVar("_T")


class _InlineExecutor:
    """The executor interface, run in this process (one worker: no fork cost)."""

    def __enter__(self) -> _InlineExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable[..., _T], *iterables: Iterable[Any]) -> Iterator[_T]:
        return map(fn, *iterables)
