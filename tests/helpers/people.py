"""Unseen people rendered and run through the Python pipeline in worker processes (rendering is most of the time)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

#: One frame's pipeline output: the 50x50 crop, the eye band, and the target the person looked at.
Found = tuple[np.ndarray, np.ndarray, tuple[float, float]]


def person_crops(renderer: str, person: Any, targets: Sequence[tuple[float, float]], per_target: int, seed: int) -> list[Found]:
    """Render one person looking at each target and keep the frames where the pipeline finds a face."""
    from gazesite.data import faces
    from gazesite.track.pipeline import process_frame

    found = []
    for frame in faces.person_frames(renderer, person, targets, per_target, seed=seed):
        result = process_frame(frame.frame)
        if result.crop is not None and result.eyes is not None:
            found.append((result.crop, result.eyes, frame.target))
    return found


def _person_job(job: tuple[str, Any, Sequence[tuple[Sequence[tuple[float, float]], int, int]]]) -> list[list[Found]]:
    renderer, person, sets = job
    return [person_crops(renderer, person, targets, per_target, seed) for targets, per_target, seed in sets]


def crops_of_people(
    renderer: str, people: Sequence[Any], sets: Sequence[tuple[Sequence[tuple[float, float]], int, int]], workers: int = 2
) -> Iterator[list[list[Found]]]:
    """For each person in order, person_crops for every (targets, per_target, seed) of ``sets``, rendered in ``workers`` processes.

    Spawned, not forked: the test process may hold TensorFlow's threads, which a fork would copy half-alive.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_person_job, [(renderer, person, sets) for person in people])
