"""Hedging for strangers: how far to trust the model's uncalibrated output on a face unlike its training faces.

A model follows the gaze of people like its training people closely; on a
person whose proportions lie outside its training ranges it follows it less
(a slope below 1) and from an offset, so its raw output overshoots and a
stranger is better served by an answer nearer the screen's centre. The
factor ``k`` in ``0.5 + k (p - 0.5)`` is fitted on strangers of the training
renderers (people drawn outside their training ranges, from a seed space
neither training nor the accuracy bench uses) and folded into the last
layer's weights, so every twin runs the model unchanged. Calibration maps the
model's output afresh for each person, so only the uncalibrated answer moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gazesite.data.dataset import mean_euclidean_error
from gazesite.errors import ModelError

#: The factors tried: 0.10, 0.15, ..., 1.00 (1 = no hedging).
FACTORS = tuple(round(0.05 * step, 2) for step in range(2, 21))
#: Points each stranger looks at; SEED draws them and the head's movements between frames.
STRANGER_TARGETS = 20
SEED = 0x57A
#: Frames per point: the head moves a little between them, as in the bench.
FRAMES_PER_TARGET = 2


@dataclass(frozen=True)
class Hedge:
    """The fitted factor and the strangers' mean error (fractions of the screen) without and with it."""

    factor: float
    people: int
    error_before: float
    error_after: float


def stranger_crops(renderers: Sequence[str], people: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(crops, targets) of each stranger: people split between the renderers, faces the cascade found."""
    from gazesite.data import faces
    from gazesite.track.pipeline import process_frame

    points = faces.random_targets(SEED, STRANGER_TARGETS)
    groups = []
    for index, renderer in enumerate(renderers):
        share = people // len(renderers) + (index < people % len(renderers))
        for person in faces.unseen_people(renderer, share, tag=faces.STRANGER_TAG):
            crops, targets = [], []
            for sample in faces.person_frames(renderer, person, points, FRAMES_PER_TARGET, seed=SEED):
                result = process_frame(sample.frame)
                if result.crop is not None:
                    crops.append(result.crop)
                    targets.append(sample.target)
            if crops:
                groups.append((np.asarray(crops, np.uint8), np.asarray(targets, np.float32)))
    return groups


def hedged(points: np.ndarray, factor: float) -> np.ndarray:
    """Points moved toward the screen's centre: 0.5 + factor (p - 0.5)."""
    return 0.5 + factor * (np.asarray(points, np.float64) - 0.5)


def fit_factor(groups: Sequence[tuple[np.ndarray, np.ndarray]]) -> Hedge:
    """The factor giving the least error, each person weighing the same (groups: (predicted, targets) per person)."""
    if not groups:
        raise ModelError("no stranger's face was found: cannot fit how far to trust the model")

    def error(factor: float) -> float:
        return float(np.mean([mean_euclidean_error(hedged(p, factor), t) for p, t in groups]))

    errors = {factor: error(factor) for factor in FACTORS}
    best = min(FACTORS, key=lambda factor: (errors[factor], -factor))  # on a tie, hedge less
    return Hedge(best, len(groups), round(errors[1.0], 5), round(errors[best], 5))


def fold_factor(model: Any, factor: float) -> None:
    """Fold the factor into the model's last layer, a linear Dense of 2 outputs, in place."""
    layer = model.layers[-1]
    config = layer.get_config()
    if type(layer).__name__ != "Dense" or config.get("activation") != "linear" or config.get("units") != 2:
        raise ModelError(
            f"cannot hedge a model whose last layer is {type(layer).__name__} {layer.name!r}: expected a linear Dense of 2 outputs"
        )
    weights, bias = layer.get_weights()
    layer.set_weights([weights * factor, bias * factor + 0.5 * (1 - factor)])


def hedge(model: Any, predict: Callable[[np.ndarray], np.ndarray], renderers: Sequence[str], people: int) -> Hedge:
    """Fit the factor on ``people`` strangers of ``renderers`` and fold it into the model."""
    groups = [(predict(crops), targets) for crops, targets in stranger_crops(renderers, people)]
    fitted = fit_factor(groups)
    fold_factor(model, fitted.factor)
    return fitted
