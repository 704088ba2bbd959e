"""Models users trained themselves run in the browser with the same boxes, crops and gaze as in Python."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gazesite.model import load_model
from gazesite.track.pipeline import process_frame, spec_for_input_shape

from ..helpers import own_models
from ..helpers.frames import parity_frames
from ..helpers.pages import open_ready, process_in_page

GAZE_TOLERANCE = 1e-4  # float32 weights on the wasm backend


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("tf_keras_64x64x1.h5", own_models.tf_keras_h5),
        ("keras3_50x50x1.keras", own_models.keras3_file),
        ("savedmodel_50x50x1", own_models.saved_model_dir),
        ("tf_keras_50x50x3.h5", lambda p: own_models.tf_keras_h5(p, (50, 50, 3))),
    ],
)
def test_own_model_runs_in_the_page_like_in_python(
    name: str, make: Callable[[Path], Path], tmp_path: Path, chromium: Any, build_site: Any, serve_site: Any, target_server: Any
) -> None:
    path = make(tmp_path / name)
    model = load_model(path)
    spec = spec_for_input_shape(tuple(model.keras_model.input_shape[1:]))
    page, problems = open_ready(chromium, serve_site(build_site(target_server.url(), "--model", str(path), "--quantize", "none")).url)
    page.evaluate("window.gazesite.stop()")
    used = page.evaluate("window.gazesite.config.pipeline")
    assert (used["crop_size"], used["channels"]) == (spec.crop_size, spec.channels)

    frames = parity_frames()[:14]
    compared = 0
    for frame_name, frame in frames:
        want = process_frame(frame, spec)
        got = process_in_page(page, frame)
        assert got["face"] == (list(want.face) if want.face else None), frame_name
        if want.crop is None:
            continue
        crop = np.array(got["crop"], np.int16).reshape(spec.crop_size, spec.crop_size)
        assert int(np.abs(crop - want.crop).max()) == 0, frame_name
        difference = float(np.abs(np.array(got["gaze"]) - model.predict(want.crop[np.newaxis])[0]).max())
        assert difference <= GAZE_TOLERANCE, f"{frame_name}: {difference:.2e}"
        compared += 1
    assert compared >= 10
    problems.assert_none()
    page.context.close()
