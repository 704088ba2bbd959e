"""The calibration candidates and the per-person choice among them.

Twin of ``assets/app/calibration/choose.js``. A sample is one frame with a
face: the model's raw output (``gaze``), its penultimate activations
(``features``), the person's eye band (``eyes``, the uint8 patch the
pipeline cuts) and the target the person looked at. Every candidate is a
ridge regression on some of these inputs; each is scored by leave-one-dot-out
cross-validation (all frames of one dot form a fold, so near-identical
neighbouring frames never score each other), the lowest mean error wins, and
ties go to the earlier, simpler candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gazesite.calibration import eyes as eye_band
from gazesite.calibration import finetune
from gazesite.calibration.finetune import Head
from gazesite.calibration.ridge import (
    centered_kernel,
    fit_kernel_ridge,
    fit_ridge,
    kernel_ridge_cv,
    mean_error,
    predict,
    standardize,
)
from gazesite.calibration.settings import AFFINE_LAMBDA, EYE_LAMBDAS, FEATURE_LAMBDAS, MIN_TARGETS, MIX_WEIGHTS


@dataclass(frozen=True)
class CalibrationSample:
    """One frame with a face, and where the person looked."""

    gaze: np.ndarray  # (2,) the model's raw output
    features: np.ndarray  # (F,) penultimate activations (empty when the model has none)
    eyes: np.ndarray  # the uint8 eye band with its margins (gazesite.track.pipeline.cut_eyes), any shape
    target: tuple[float, float]
    trunk: np.ndarray | None = None  # the penultimate layer's input, for the fine-tuning candidate


@dataclass
class Candidate:
    """A family of mappings: which inputs, how they are scaled, which penalties."""

    method: str
    lambdas: tuple[float, ...]
    weight: float | None = None  # the CNN block's share beside the eye band


def candidate_list(has_features: bool) -> list[Candidate]:
    """Every candidate in order of simplicity (ties go to the earlier)."""
    out = [Candidate("affine", (AFFINE_LAMBDA,))]
    if has_features:
        out.append(Candidate("features", FEATURE_LAMBDAS))
    out.append(Candidate("eyes", EYE_LAMBDAS))
    if has_features:
        out.extend(Candidate("eyes+features", EYE_LAMBDAS, weight) for weight in MIX_WEIGHTS)
    return out


# ---------------------------------------------------------------- inputs per candidate


def _model_rows(method: str, samples: list[CalibrationSample]) -> np.ndarray:
    """The raw output alone, or the penultimate activations followed by the raw output."""
    if method == "affine":
        return np.array([s.gaze for s in samples], np.float64)
    return np.array([np.concatenate([s.features, s.gaze]) for s in samples], np.float64)


def _penalties(method: str, lam: float, width: int) -> np.ndarray:
    """Per-column penalties: the features candidate shrinks the activations by lam, the raw output only by AFFINE_LAMBDA.

    A large lam then tends to the affine map rather than to a constant, so lam
    trades "affine" against "affine plus features".
    """
    if method == "affine":
        return np.full(width, lam)
    return np.append(np.full(width - 2, lam), [AFFINE_LAMBDA, AFFINE_LAMBDA])


@dataclass(frozen=True)
class EyeInputs:
    """The person's eye reference and every sample's registered eye band: computed once per calibration."""

    reference: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, samples: list[CalibrationSample]) -> EyeInputs:
        """Build the reference from the samples, then register every sample to it."""
        reference = eye_band.reference([s.eyes for s in samples])
        block = {"input": "eyes", "reference": reference.ravel().tolist(), "weight": 1.0}
        return cls(reference, _eye_rows(block, samples))


def _blocks(candidate: Candidate, samples: list[CalibrationSample], eyes: EyeInputs) -> list[dict[str, Any]]:
    """The input blocks of a kernel candidate: the registered eye band, and the standardised CNN inputs scaled to their share."""
    blocks: list[dict[str, Any]] = [{"input": "eyes", "reference": eyes.reference.ravel().tolist(), "weight": 1.0}]
    if candidate.weight is not None:
        model = _model_rows("features", samples)
        stats = standardize(model)
        energy = ((stats.apply(model)) ** 2).sum(axis=1).mean()
        eye_energy = (eyes.rows**2).sum(axis=1).mean()
        weight = float(np.sqrt(candidate.weight * eye_energy / energy)) if energy > 0 else 0.0
        blocks.append({"input": "model", "mean": stats.mean.tolist(), "scale": stats.scale.tolist(), "weight": weight})
    return blocks


def _kernel_rows(blocks: list[dict[str, Any]], samples: list[CalibrationSample], eyes: EyeInputs) -> np.ndarray:
    """block_rows for a kernel candidate's own samples, with the eye band already registered."""
    return np.hstack([eyes.rows * block["weight"] if block["input"] == "eyes" else block_rows([block], samples) for block in blocks])


def _eye_rows(block: dict[str, Any], samples: list[CalibrationSample]) -> np.ndarray:
    """Every sample's eye band registered to the block's reference, as regression inputs."""
    layout = eye_band.Layout.of()
    reference = np.asarray(block["reference"], np.uint8).reshape(layout.height, layout.width)
    return np.array([eye_band.features(s.eyes, reference, layout) for s in samples])


def block_rows(blocks: list[dict[str, Any]], samples: list[CalibrationSample]) -> np.ndarray:
    """Assemble every sample's input row from the blocks of a mapping."""
    parts = []
    for block in blocks:
        if block["input"] == "eyes":
            values = _eye_rows(block, samples)
        else:
            source = "affine" if block["input"] == "gaze" else "features"
            values = (_model_rows(source, samples) - np.asarray(block["mean"])) / np.asarray(block["scale"])
        parts.append(values * block["weight"])
    return np.hstack(parts)


# ---------------------------------------------------------------- cross-validation


@dataclass
class Scored:
    """One candidate at one penalty, with its leave-one-dot-out error and predictions."""

    method: str
    lam: float
    weight: float | None
    cv_error: float
    predictions: np.ndarray = field(repr=False)


def _groups(samples: list[CalibrationSample]) -> tuple[np.ndarray, int]:
    """Samples grouped by their exact target, numbered in order of first appearance."""
    index: dict[tuple[float, float], int] = {}
    groups = [index.setdefault((float(s.target[0]), float(s.target[1])), len(index)) for s in samples]
    return np.array(groups), len(index)


def _cv_primal(candidate: Candidate, samples: list[CalibrationSample], groups: np.ndarray, count: int) -> list[Scored]:
    """Refit per fold (each fold standardises on its own training part, as the final fit does)."""
    rows = _model_rows(candidate.method, samples)
    targets = np.array([s.target for s in samples], np.float64)
    out = []
    for lam in candidate.lambdas:
        predictions = np.empty_like(targets)
        failed = False
        for fold in range(count):
            train, test = groups != fold, groups == fold
            stats = standardize(rows[train])
            try:
                W = fit_ridge(stats.apply(rows[train]), targets[train], _penalties(candidate.method, lam, rows.shape[1]))
            except np.linalg.LinAlgError:
                failed = True
                break
            predictions[test] = predict(W, stats.apply(rows[test]))
        error = float("inf") if failed else mean_error(predictions, targets)
        out.append(Scored(candidate.method, lam, candidate.weight, error, predictions))
    return out


def _cv_kernel(candidate: Candidate, samples: list[CalibrationSample], groups: np.ndarray, eyes: EyeInputs) -> list[Scored]:
    """Closed-form leave-one-dot-out of dual ridge, once per penalty."""
    rows = _kernel_rows(_blocks(candidate, samples, eyes), samples, eyes)
    targets = np.array([s.target for s in samples], np.float64)
    kernel, _ = centered_kernel(rows)
    scale = float(np.trace(kernel)) / len(rows)
    out = []
    for share in candidate.lambdas:
        predictions = kernel_ridge_cv(kernel, targets, groups, share * scale)
        out.append(Scored(candidate.method, share, candidate.weight, mean_error(predictions, targets), predictions))
    return out


# ---------------------------------------------------------------- fitting and applying


def fit_mapping(
    method: str, lam: float, weight: float | None, samples: list[CalibrationSample], eyes: EyeInputs | None = None
) -> dict[str, Any]:
    """Fit one mapping on all samples; a plain, JSON-ready dict for apply_mapping."""
    targets = np.array([s.target for s in samples], np.float64)
    if method in ("affine", "features"):
        rows = _model_rows(method, samples)
        stats = standardize(rows)
        W = fit_ridge(stats.apply(rows), targets, _penalties(method, lam, rows.shape[1]))
        blocks = [
            {"input": "gaze" if method == "affine" else "model", "mean": stats.mean.tolist(), "scale": stats.scale.tolist(), "weight": 1.0}
        ]
        return {"method": method, "lambda": lam, "weight": weight, "blocks": blocks, "weights": W.tolist()}
    eyes = eyes or EyeInputs.of(samples)
    blocks = _blocks(Candidate(method, (lam,), weight), samples, eyes)
    rows = _kernel_rows(blocks, samples, eyes)
    kernel, _ = centered_kernel(rows)
    W = fit_kernel_ridge(rows, targets, lam * float(np.trace(kernel)) / len(rows))
    return {"method": method, "lambda": lam, "weight": weight, "blocks": blocks, "weights": W.tolist()}


def apply_mapping(mapping: dict[str, Any], samples: list[CalibrationSample]) -> np.ndarray:
    """The calibrated points (N, 2) of samples under a fitted mapping."""
    if mapping["method"] == "finetune":
        return mapping["head"].apply(np.array([s.trunk for s in samples])).astype(np.float64)
    return predict(np.asarray(mapping["weights"], np.float64), block_rows(mapping["blocks"], samples))


def choose_calibration(samples: list[CalibrationSample], head: Head | None = None) -> dict[str, Any]:
    """Score every candidate, fit the winner on all samples; the summary the page computes too.

    With the model's ``head`` (finetune.Head.of) and every sample's trunk
    activations, fine-tuning competes last, as in the page.
    """
    groups, points = _groups(samples)
    if points < MIN_TARGETS:
        raise ValueError(f"calibration needs frames with a face at {MIN_TARGETS} or more distinct targets, got {points}")
    has_features = all(len(s.features) > 0 for s in samples)
    eyes = EyeInputs.of(samples)
    scored: list[Scored] = []
    for candidate in candidate_list(has_features):
        if candidate.method in ("affine", "features"):
            scored.extend(_cv_primal(candidate, samples, groups, points))
        else:
            scored.extend(_cv_kernel(candidate, samples, groups, eyes))
    tuned = None
    if head is not None and all(s.trunk is not None and len(s.trunk) for s in samples):
        targets = np.array([s.target for s in samples], np.float64)
        predictions, tuned = finetune.cross_validate(head, np.array([s.trunk for s in samples]), targets, groups, points)
        scored.append(Scored("finetune", float("nan"), None, mean_error(predictions, targets), predictions))
    best = scored[0]
    for entry in scored[1:]:  # strictly lower wins: on a tie the earlier, simpler candidate stays
        if entry.cv_error < best.cv_error:
            best = entry
    mapping = (
        {"method": "finetune", "head": tuned}
        if best.method == "finetune"
        else fit_mapping(best.method, best.lam, best.weight, samples, eyes)
    )
    targets = np.array([s.target for s in samples])
    return {
        "method": best.method,
        "lambda": best.lam,
        "weight": best.weight,
        "fitError": mean_error(apply_mapping(mapping, samples), targets),
        "cvError": best.cv_error,
        "samples": len(samples),
        "points": points,
        "mapping": mapping,
        "candidates": [{"method": s.method, "lambda": s.lam, "weight": s.weight, "cvError": s.cv_error} for s in scored],
        "cvPredictions": best.predictions,
    }
