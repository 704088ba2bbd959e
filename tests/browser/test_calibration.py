"""Calibration: a person the default model never saw becomes accurate after a few dots.

The "new person" (gazesite.synthetic.unseen_person) has wider-set eyes than
any training face, irises that travel less and rest off-centre, and a camera
that sees the face smaller and to one side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gazesite import synthetic
from gazesite.browser import PROCESS_IN_PAGE, rgba_payload

from .conftest import gazesite_cli, open_ready

#: Dot layouts (fractions of the screen), as the page lays them out.
LAYOUTS = {
    5: [(0.1, 0.1), (0.9, 0.1), (0.5, 0.5), (0.1, 0.9), (0.9, 0.9)],
    9: [(x, y) for y in (0.1, 0.5, 0.9) for x in (0.1, 0.5, 0.9)],
    13: [(x, y) for y in (0.1, 0.5, 0.9) for x in (0.1, 0.5, 0.9)] + [(x, y) for y in (0.3, 0.7) for x in (0.3, 0.7)],
}
FRAMES_PER_DOT = 6
SCREEN = (1280, 800)
PERSON_SEED = 2

CALIBRATE_IN_PAGE = """async (samples) => {
  const decoded = samples.map(({frame: {width, height, data}, target}) => ({
    image: new ImageData(Uint8ClampedArray.from(atob(data), c => c.charCodeAt(0)), width, height),
    target,
  }));
  return await window.gazesite.calibrate(decoded);
}"""


def held_out_frames() -> list[synthetic.SyntheticSample]:
    """The new person looking at 20 points no calibration dot sits on."""
    rng = np.random.default_rng(5)
    targets = [(float(x), float(y)) for x, y in rng.uniform(0.05, 0.95, (20, 2))]
    return synthetic.person_frames(synthetic.unseen_person(PERSON_SEED), targets, 3, seed=2)


def calibration_samples(points: int) -> list[dict[str, Any]]:
    frames = synthetic.person_frames(synthetic.unseen_person(PERSON_SEED), LAYOUTS[points], FRAMES_PER_DOT, seed=1)
    return [{"frame": rgba_payload(s.frame), "target": list(s.target)} for s in frames]


def errors_on(page: Any, samples: list[synthetic.SyntheticSample]) -> tuple[float, float | None]:
    """Mean Euclidean error (screen fractions) of raw and calibrated gaze over frames with a face."""
    raw, calibrated = [], []
    for sample in samples:
        result = page.evaluate(PROCESS_IN_PAGE, rgba_payload(sample.frame))
        if result["gaze"] is None:
            continue
        raw.append(np.hypot(*np.subtract(result["gaze"], sample.target)))
        if result.get("calibrated") is not None:
            calibrated.append(np.hypot(*np.subtract(result["calibrated"], sample.target)))
    assert len(raw) >= 50, "the new person's face must be found in most frames"
    return float(np.mean(raw)), (float(np.mean(calibrated)) if calibrated else None)


def px(error: float) -> float:
    """A screen-fraction error in px on a 1280x800 screen (per-axis scaling)."""
    return error * float(np.hypot(*SCREEN)) / np.sqrt(2)


@pytest.fixture(scope="module")
def site_url(build_site: Any, serve_site: Any, target_server: Any) -> str:
    return serve_site(build_site(target_server.url())).url


@pytest.fixture(scope="module")
def held_out() -> list[synthetic.SyntheticSample]:
    return held_out_frames()


@pytest.mark.parametrize("points", [5, 9, 13])
def test_calibration_halves_the_error_of_a_new_person(points: int, chromium: Any, site_url: str, held_out: list) -> None:
    page, problems = open_ready(chromium, site_url)
    page.evaluate("window.gazesite.stop()")
    uncalibrated = page.evaluate(PROCESS_IN_PAGE, rgba_payload(held_out[0].frame))
    assert uncalibrated["gaze"] is not None and uncalibrated.get("calibrated") is None
    summary = page.evaluate(CALIBRATE_IN_PAGE, calibration_samples(points))
    assert summary["points"] == points and summary["samples"] >= points * FRAMES_PER_DOT * 0.8
    before, after = errors_on(page, held_out)
    assert after is not None
    print(
        f"\ncalibration {points} points ({summary['method']}, lambda {summary['lambda']}): "
        f"before {before:.3f} ({px(before):.0f} px, {before * 100:.1f}%), after {after:.3f} ({px(after):.0f} px, {after * 100:.1f}%)"
    )
    if points >= 9:
        assert after <= before / 2
        assert after <= 0.08
    else:
        assert after < before
    page.evaluate("window.gazesite.resetCalibration()")
    assert page.evaluate("window.gazesite.calibration") is None
    problems.assert_none()
    page.context.close()


def test_downloaded_dataset_fine_tunes_a_better_model(
    chromium: Any, site_url: str, held_out: list, build_site: Any, serve_site: Any, target_server: Any, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    # Record in the browser...
    page, _ = open_ready(chromium, site_url, accept_downloads=True)
    page.evaluate("window.gazesite.stop()")
    page.evaluate(CALIBRATE_IN_PAGE, calibration_samples(9))
    with page.expect_download() as download:
        page.click("#download-dataset")
    dataset = tmp_path / "person.json"
    download.value.save_as(dataset)
    default_error, _ = errors_on(page, held_out)
    page.context.close()
    data = json.loads(dataset.read_text())
    assert data["format"] == "gazesite-dataset" and data["count"] >= 40 and data["metadata"]["source"] == "browser"

    # ... train in Python ...
    model = tmp_path / "personal"
    result = gazesite_cli("train", "--data", dataset, "--init", Path(__file__).parents[2] / "models" / "default", "--epochs", "40", "--out", model, env=cli_env)
    assert result.returncode == 0, result.stderr

    # ... rebuild, and run it in the browser.
    page, problems = open_ready(chromium, serve_site(build_site(target_server.url(), "--model", str(model))).url)
    page.evaluate("window.gazesite.stop()")
    tuned_error, _ = errors_on(page, held_out)
    print(f"\nfine-tuned on {data['count']} browser crops: held-out error {default_error:.3f} -> {tuned_error:.3f} ({px(tuned_error):.0f} px)")
    assert tuned_error < default_error
    problems.assert_none()
    page.context.close()


def test_calibration_ui_flow_survives_reload_and_resets(launch_chromium: Any, site_url: str, tmp_path: Path) -> None:
    from gazesite.browser import camera_args, wait_ready, wait_state
    from gazesite.fakecam import face_video

    from .conftest import watch

    browser = launch_chromium(*camera_args(face_video(tmp_path / "face.y4m")))
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    problems = watch(page)
    page.goto(site_url)
    wait_state(page, "running")
    status = page.locator("#calibration-status")
    assert status.get_attribute("data-calibrated") == "false"

    page.click("#calibrate")
    assert page.locator(".calibration-dot").first.is_visible()
    page.wait_for_selector("#calibration-result", state="visible", timeout=90_000)
    result_text = page.inner_text("#calibration-result")
    assert "px" in result_text and "%" in result_text
    page.click("#calibration-accept")
    assert status.get_attribute("data-calibrated") == "true"

    page.reload()
    wait_ready(page)
    assert page.locator("#calibration-status").get_attribute("data-calibrated") == "true"
    assert page.evaluate("window.gazesite.calibration") is not None
    page.wait_for_function("window.gazesite.samples.length > 5", timeout=30_000)
    assert page.evaluate("window.gazesite.samples.at(-1).source") == "calibrated"

    page.click("#calibration-reset")
    assert page.locator("#calibration-status").get_attribute("data-calibrated") == "false"
    page.reload()
    wait_ready(page)
    assert page.locator("#calibration-status").get_attribute("data-calibrated") == "false"
    assert page.evaluate("window.gazesite.calibration") is None
    problems.assert_none()


FIT_IN_PAGE = """async ([X, Y, lambda]) => {
  const { fitRidge, predictRidge, standardize } = await import('./app/calibration.js');
  const W = fitRidge(X, Y, lambda);
  const s = standardize(X);
  return { W, predicted: predictRidge(W, X), mean: s.mean, scale: s.scale, rows: s.rows };
}"""


@pytest.mark.parametrize("lam", [0.0, 0.7, 25.0])
def test_ridge_fit_matches_numpy(lam: float, chromium: Any, site_url: str) -> None:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 6)) * [1, 3, 0.5, 10, 1, 2]
    Y = np.c_[X @ rng.normal(size=6), X @ rng.normal(size=6)] + rng.normal(0, 0.1, (40, 2)) + [0.3, -0.2]
    page, _ = open_ready(chromium, site_url)
    got = page.evaluate(FIT_IN_PAGE, [X.tolist(), Y.tolist(), lam])
    page.context.close()

    A = np.hstack([X, np.ones((len(X), 1))])
    if lam == 0:
        expected = np.linalg.lstsq(A, Y, rcond=None)[0]
    else:  # ridge as least squares on an augmented system: the intercept row is not penalised
        penalty = np.sqrt(lam) * np.eye(A.shape[1])[:-1]
        expected = np.linalg.lstsq(np.vstack([A, penalty]), np.vstack([Y, np.zeros((len(penalty), 2))]), rcond=None)[0]
    np.testing.assert_allclose(got["W"], expected, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got["predicted"], A @ expected, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got["mean"], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["scale"], X.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["rows"], (X - X.mean(axis=0)) / X.std(axis=0), rtol=1e-9, atol=1e-12)
