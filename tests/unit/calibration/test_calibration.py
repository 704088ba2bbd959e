"""The calibration maths in Python (the page's twin): ridge, leave-one-dot-out, eye registration, dots, accuracy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gazesite.calibration import dots, eyes, ridge
from gazesite.calibration.choose import CalibrationSample, apply_mapping, choose_calibration
from tests.helpers.people import Found, crops_of_people


def test_closed_form_leave_one_group_out_equals_refitting() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 50))  # more inputs than rows: the dual form's case
    Y = rng.normal(size=(30, 2))
    groups = np.repeat(np.arange(6), 5)
    kernel, _ = ridge.centered_kernel(X)
    lam = 0.3 * np.trace(kernel) / len(X)
    fast = ridge.kernel_ridge_cv(kernel, Y, groups, lam)
    slow = np.empty_like(Y)
    for group in range(6):
        keep = groups != group
        W = ridge.fit_kernel_ridge(X[keep], Y[keep], lam)
        slow[~keep] = ridge.predict(W, X[~keep])
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)


def test_dual_ridge_equals_primal_ridge() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 6)) * [1, 3, 0.5, 10, 1, 2]
    Y = X @ rng.normal(size=(6, 2)) + rng.normal(0, 0.1, (40, 2))
    for lam in (0.01, 1.0, 30.0):
        np.testing.assert_allclose(ridge.fit_kernel_ridge(X, Y, lam), ridge.fit_ridge(X, Y, lam), rtol=1e-9, atol=1e-9)


def _textured_band(layout: eyes.Layout, shift: tuple[float, float]) -> np.ndarray:
    """A smooth random image sampled at the band's pixels moved by ``shift``: a band whose reference sits there."""
    rng = np.random.default_rng(5)
    waves = rng.normal(size=(12, 4))
    rows, columns = layout.shape
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    x, y = x - shift[0], y - shift[1]
    image = sum(a * np.sin(b * 0.35 * x + c * 0.45 * y + d) for a, b, c, d in waves)
    return np.clip(128 + 18 * image, 0, 255).round().astype(np.uint8)


@pytest.mark.parametrize("shift", [(0, 0), (3, -2), (-7, 5), (0.4, -0.3), (-2.3, 1.6)])
def test_registration_finds_where_the_reference_sits(shift: tuple[float, float]) -> None:
    layout = eyes.Layout.of()
    reference = _textured_band(layout, (0, 0))[
        layout.margin_y : layout.margin_y + layout.height, layout.margin_x : layout.margin_x + layout.width
    ]
    found = eyes.register(_textured_band(layout, shift), reference, layout)
    # Whole pixels come out within a few hundredths; fractions within a fifth of a pixel.
    assert found == pytest.approx(shift, abs=0.05 if float(shift[0]).is_integer() else 0.2)


def test_eye_features_are_normalised_and_blind_to_exposure() -> None:
    layout = eyes.Layout.of()
    band = _textured_band(layout, (1.5, -0.5))
    reference = _textured_band(layout, (0, 0))[layout.margin_y : -layout.margin_y, layout.margin_x : -layout.margin_x]
    plain = eyes.features(band, reference, layout)
    assert plain.shape == ((layout.height // 2) * (layout.width // 2),)
    assert abs(plain.mean()) < 1e-12 and math.isclose(plain.std(), 1.0)
    brighter = eyes.features(np.clip(band.astype(int) + 20, 0, 255).astype(np.uint8), reference, layout)
    assert np.abs(brighter - plain).max() < 0.05


def test_dot_layouts() -> None:
    for count in range(dots.MIN_POINTS, dots.MAX_POINTS + 1):
        layout = dots.calibration_layout(count)
        assert len(layout) == len(set(layout)) == count
        assert all(dots.MARGIN - 1e-9 <= v <= dots.FAR + 1e-9 for point in layout for v in point)
    nine = dots.calibration_layout(9)
    assert nine == [(x, y) for y in (0.1, 0.5, 0.9) for x in (0.1, 0.5, 0.9)]
    assert set(dots.calibration_layout(5)) <= set(nine) and nine == dots.calibration_layout(13)[:9]
    checks = dots.check_layout(4, nine)
    assert len(checks) == 4 and not set(checks) & set(nine)
    assert all(dots.CHECK_BOX[0] <= v <= dots.CHECK_BOX[1] for point in checks for v in point)
    with pytest.raises(ValueError):
        dots.calibration_layout(4)


def test_too_few_targets_is_an_error() -> None:
    sample = CalibrationSample(np.array([0.5, 0.5]), np.zeros(0), np.zeros(eyes.Layout.of().shape, np.uint8), (0.1, 0.1))
    with pytest.raises(ValueError, match="3 or more distinct targets"):
        choose_calibration([sample, CalibrationSample(sample.gaze, sample.features, sample.eyes, (0.9, 0.9))])


# ---------------------------------------------------------------- accuracy on unseen people

#: Frames the page keeps per dot (900 ms of a 30 fps camera), and the held-out points.
FRAMES_PER_DOT = 27
HELD_OUT = 20


def _samples(found: list[Found], outputs: Any) -> list[CalibrationSample]:
    """Calibration samples as the page computes them: the pipeline's eye band, the shipped model's trunk, features and gaze."""
    trunk, features, gaze = outputs.predict(np.stack([crop for crop, _, _ in found])[..., None].astype(np.float32) / 255, verbose=0)
    return [CalibrationSample(gaze[i], features[i], eye, target, trunk[i]) for i, (_, eye, target) in enumerate(found)]


@pytest.fixture(scope="module")
def shipped() -> tuple[Any, Any]:
    """The shipped model seen as the page sees it (trunk, penultimate activations, gaze), and its head for fine-tuning."""
    from gazesite.calibration.finetune import Head
    from gazesite.model import load_model
    from gazesite.model.tf_env import import_keras
    from gazesite.paths import default_model_dir

    keras = import_keras()
    model = load_model(default_model_dir()).keras_model
    penultimate = model.layers[-2]
    return keras.Model(model.inputs, [penultimate.input, penultimate.output, model.outputs[0]]), Head.of(model)


@pytest.mark.slow
@pytest.mark.parametrize("renderer", ["cartoon", "vector", "raycast"])
def test_nine_dots_calibrate_unseen_people(renderer: str, shipped: tuple[Any, Any]) -> None:
    """Six people no model saw, 9 dots x 27 frames: median <= 0.06, worst <= 0.09, each at most half its raw error.

    The page's own calibration gives the same figures: pipeline, eye bands and
    maths are held equal to these in the browser tests (tests/browser/test_parity.py,
    test_calibration.py).
    """
    from gazesite.data import faces

    targets = faces.random_targets(5, HELD_OUT)
    outputs, _ = shipped
    before, after = [], []
    sets = [(dots.calibration_layout(9), FRAMES_PER_DOT, 1), (targets, 3, 2)]
    for fit_found, held_found in crops_of_people(renderer, faces.unseen_people(renderer, 6), sets):
        fit, held = _samples(fit_found, outputs), _samples(held_found, outputs)
        # Without the fine-tuning candidate: it rarely wins (1 of 54 in the accuracy bench) and its cross-validation
        # is most of this test's time; tests/browser/test_calibration.py holds it to the page.
        mapping = choose_calibration(fit)["mapping"]
        truth = np.array([s.target for s in held])
        before.append(ridge.mean_error(np.array([s.gaze for s in held]), truth))
        after.append(ridge.mean_error(apply_mapping(mapping, held), truth))
    print(f"\n{renderer}: before {np.round(before, 3)} after {np.round(after, 3)}")
    assert np.median(after) <= 0.06 and max(after) <= 0.09
    assert all(a <= b / 2 for a, b in zip(after, before, strict=True))
