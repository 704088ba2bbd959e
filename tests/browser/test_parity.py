"""The page's processFrame equals Python's process_frame + predict, frame by frame.

Boxes, crops and eye bands must be identical (OpenCV 4.12 on both sides). Gaze must
agree within GAZE_TOLERANCE with the model Python runs: the float Keras model
for a float32 build, the quantized TF.js model reloaded in Python for a
quantized build (both sides then use the same dequantized weights).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gazesite.paths import default_model_dir
from gazesite.track.pipeline import FrameResult, crops_to_input, process_frame

from ..helpers.frames import parity_frames
from ..helpers.pages import open_ready, process_in_page, track_in_page

#: Largest |gaze difference| allowed, in screen fractions, per backend. wasm and
#: cpu compute in float32 like TensorFlow; webgl may run with reduced precision.
GAZE_TOLERANCE = {"wasm": 1e-4, "cpu": 1e-4, "webgl": 1e-3}
MIN_FRAMES = 30


def assert_same_band(got: dict[str, Any], want: FrameResult, name: str) -> None:
    """The page cut the same eye band bytes."""
    assert want.eyes is not None  # cut with every crop
    eyes = np.array(got["eyes"], np.int16).reshape(want.eyes.shape)
    assert int(np.abs(eyes - want.eyes).max()) == 0, f"{name}: eye bands differ"


@pytest.fixture(scope="module")
def frames() -> list[tuple[str, np.ndarray]]:
    found = parity_frames()
    assert len(found) >= MIN_FRAMES
    return found


@pytest.fixture(scope="module", params=["none", "uint8"])
def site(request: pytest.FixtureRequest, build_site: Any, serve_site: Any, target_server: Any) -> dict[str, Any]:
    quantize = request.param
    dist = build_site(target_server.url(), "--quantize", quantize, "--model", str(default_model_dir()))
    return {"quantize": quantize, "dist": dist, "server": serve_site(dist)}


def python_predictions(site: dict[str, Any], crops: np.ndarray) -> np.ndarray:
    """What Python predicts with the same weights the page runs."""
    if site["quantize"] == "none":
        from gazesite.model import load_model

        return load_model(default_model_dir()).predict(crops)
    import tensorflowjs as tfjs

    from gazesite.model.tf_env import import_keras

    import_keras()
    reloaded = tfjs.converters.load_keras_model(str(Path(site["dist"]) / "model" / "model.json"))
    return np.asarray(reloaded.predict_on_batch(crops_to_input(crops)), np.float32)


@pytest.mark.parametrize("backend", list(GAZE_TOLERANCE))
def test_page_matches_python(backend: str, site: dict[str, Any], frames: list[tuple[str, np.ndarray]], chromium: Any) -> None:
    page, problems = open_ready(chromium, site["server"].url + f"?backend={backend}")
    running = page.evaluate("window.gazesite.backend")
    if running != backend:
        assert backend == "webgl", f"asked for {backend}, the page runs {running}"
        pytest.skip(f"this Chromium offers no WebGL (the page fell back to {running})")

    expected = [process_frame(frame) for _, frame in frames]
    with_face = [i for i, r in enumerate(expected) if r.crop is not None]
    assert len(with_face) >= 20 and len(with_face) <= len(frames) - 4
    predicted = python_predictions(site, np.stack([r.crop for r in expected if r.crop is not None]))  # in with_face's order
    python_gaze = dict(zip(with_face, predicted, strict=True))

    worst = 0.0
    for index, (name, frame) in enumerate(frames):
        result = process_in_page(page, frame)
        want = expected[index]
        assert result["face"] == (list(want.face) if want.face else None), name
        if want.crop is None:
            assert result["crop"] is None and result["eyes"] is None and result["gaze"] is None, name
            continue
        crop = np.array(result["crop"], np.int16).reshape(want.crop.shape)
        assert int(np.abs(crop - want.crop).max()) == 0, f"{name}: crops differ"
        assert_same_band(result, want, name)
        difference = float(np.abs(np.array(result["gaze"]) - python_gaze[index]).max())
        worst = max(worst, difference)
        assert difference <= GAZE_TOLERANCE[backend], f"{name}: gaze differs by {difference:.2e}"
    print(f"\nparity {site['quantize']}/{backend}: {len(frames)} frames, {len(with_face)} with a face, max |gaze difference| {worst:.2e}")
    problems.assert_none()
    page.context.close()


def moving_sequence() -> list[np.ndarray]:
    """A person moving about, leaving the frame for a moment, then someone else."""
    from gazesite.data.faces import cartoon

    rng = np.random.default_rng(8)
    first, second = cartoon.random_identity(rng), cartoon.random_identity(rng)
    frames = []
    for person, count in ((first, 26), (None, 3), (second, 14)):
        for _ in range(count):
            if person is None:
                frames.append(np.full((240, 320, 4), 120, np.uint8))
                continue
            person = cartoon.jitter(person, rng)  # drifts: every frame moves a little from the last
            frames.append(cartoon.render_face(person, (float(rng.uniform()), float(rng.uniform())), rng))
    return frames


def test_tracked_sequence_matches_python(site: dict[str, Any], chromium: Any) -> None:
    from gazesite.track.face_tracker import FaceTracker
    from gazesite.track.pipeline import PIPELINE, track_frame

    frames = moving_sequence()
    tracker = FaceTracker(PIPELINE)
    expected, tracked = [], 0
    for frame in frames:
        expected.append(track_frame(frame, tracker))
        tracked += tracker.state.tracked_frames > 0
    assert tracked >= len(frames) // 2, "the sequence must exercise the near-face search"
    assert sum(r.face is None for r in expected) >= 3

    page, problems = open_ready(chromium, site["server"].url + "?backend=wasm")
    page.evaluate("window.gazesite.stop()")
    results = track_in_page(page, frames)
    with_face = [i for i, r in enumerate(expected) if r.crop is not None]
    crops = np.stack([r.crop for r in expected if r.crop is not None])  # in with_face's order
    python_gaze = dict(zip(with_face, python_predictions(site, crops), strict=True))
    for index, (want, got) in enumerate(zip(expected, results, strict=True)):
        assert got["face"] == (list(want.face) if want.face else None), f"frame {index}"
        if want.crop is not None:
            assert np.array_equal(np.array(got["crop"]).reshape(want.crop.shape), want.crop), f"frame {index}"
            assert_same_band(got, want, f"frame {index}")
            assert float(np.abs(np.array(got["gaze"]) - python_gaze[index]).max()) <= GAZE_TOLERANCE["wasm"]
    problems.assert_none()
    page.context.close()
