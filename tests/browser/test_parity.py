"""The page's processFrame equals Python's process_frame + predict, frame by frame.

Boxes and crops must be identical (OpenCV 4.12 on both sides). Gaze must
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
from gazesite.pipeline import crops_to_input, process_frame

from .conftest import PROCESS_IN_PAGE, open_ready, rgba_payload
from .frames import parity_frames

#: Largest |gaze difference| allowed, in screen fractions, per backend. wasm and
#: cpu compute in float32 like TensorFlow; webgl may run with reduced precision.
GAZE_TOLERANCE = {"wasm": 1e-4, "cpu": 1e-4, "webgl": 1e-3}
MIN_FRAMES = 30


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

    from gazesite.tf_env import import_keras

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
    predicted = python_predictions(site, np.stack([expected[i].crop for i in with_face]))
    python_gaze = dict(zip(with_face, predicted))

    worst = 0.0
    for index, (name, frame) in enumerate(frames):
        result = page.evaluate(PROCESS_IN_PAGE, rgba_payload(frame))
        want = expected[index]
        assert result["face"] == (list(want.face) if want.face else None), name
        if want.crop is None:
            assert result["crop"] is None and result["gaze"] is None, name
            continue
        crop = np.array(result["crop"], np.int16).reshape(want.crop.shape)
        assert int(np.abs(crop - want.crop).max()) == 0, f"{name}: crops differ"
        difference = float(np.abs(np.array(result["gaze"]) - python_gaze[index]).max())
        worst = max(worst, difference)
        assert difference <= GAZE_TOLERANCE[backend], f"{name}: gaze differs by {difference:.2e}"
    print(f"\nparity {site['quantize']}/{backend}: {len(frames)} frames, {len(with_face)} with a face, max |gaze difference| {worst:.2e}")
    problems.assert_none()
    page.context.close()
