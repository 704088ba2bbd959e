"""The Python frame pipeline on real and synthetic faces."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from gazesite.track.pipeline import PIPELINE, crops_to_input, detect_faces, pick_face, pipeline_constants, process_frame, to_gray


def test_astronaut_face_is_found_and_cropped(astronaut_rgba: np.ndarray) -> None:
    result = process_frame(astronaut_rgba)
    assert result.face is not None
    x, y, w, h = result.face
    # The astronaut's face sits in the upper middle of the photo.
    assert 130 < x + w / 2 < 260 and 60 < y + h / 2 < 170, result.face
    assert w >= PIPELINE.min_face_size and h >= PIPELINE.min_face_size
    assert result.crop is not None
    assert result.crop.shape == (PIPELINE.crop_size, PIPELINE.crop_size)
    assert result.crop.dtype == np.uint8
    # equalizeHist + CLAHE spread the crop over most of the grey range.
    assert result.crop.min() < 30 and result.crop.max() > 225


def test_pipeline_is_deterministic(astronaut_rgba: np.ndarray) -> None:
    first, second = process_frame(astronaut_rgba), process_frame(astronaut_rgba.copy())
    assert first.face == second.face
    assert first.crop is not None and second.crop is not None
    np.testing.assert_array_equal(first.crop, second.crop)


def test_crop_follows_the_documented_steps(astronaut_rgba: np.ndarray) -> None:
    result = process_frame(astronaut_rgba)
    assert result.face is not None
    x, y, w, h = result.face
    gray = cv2.cvtColor(astronaut_rgba, cv2.COLOR_RGBA2GRAY)
    small = cv2.resize(gray[y : y + h, x : x + w], (50, 50), interpolation=cv2.INTER_AREA)
    expected = cv2.createCLAHE(clipLimit=40.0, tileGridSize=(8, 8)).apply(cv2.equalizeHist(small))
    assert result.crop is not None
    np.testing.assert_array_equal(result.crop, expected)


def test_synthetic_faces_are_found(synthetic_frames: list) -> None:
    results = [process_frame(s.frame) for s in synthetic_frames]
    found = [r for r in results if r.face is not None]
    assert len(found) >= 16, f"only {len(found)} of {len(results)} synthetic faces found"
    assert all(r.crop is not None and r.crop.shape == (50, 50) for r in found)


def test_frame_without_face_gives_none() -> None:
    rng = np.random.default_rng(0)
    for frame in (np.full((240, 320, 4), 128, np.uint8), rng.integers(0, 256, (240, 320, 4), dtype=np.uint8)):
        result = process_frame(frame)
        assert result.face is None and result.crop is None


def test_largest_face_wins_in_a_two_face_frame(astronaut_rgba: np.ndarray) -> None:
    head = astronaut_rgba[20:260, 90:310]  # the astronaut's head and shoulders
    canvas = np.full((300, 600, 4), 255, np.uint8)
    canvas[30:270, 340:560] = head
    small = cv2.resize(head, (165, 180), interpolation=cv2.INTER_AREA)
    canvas[60:240, 40:205] = small
    faces = detect_faces(to_gray(canvas))
    assert len(faces) == 2, faces
    result = process_frame(canvas)
    assert result.face == max(faces, key=lambda f: f[2] * f[3])
    assert result.face[0] > 300  # the big copy is on the right


def test_pick_face_breaks_ties_by_y_then_x() -> None:
    assert pick_face([]) is None
    assert pick_face([(0, 0, 80, 80), (50, 50, 100, 100)]) == (50, 50, 100, 100)
    assert pick_face([(90, 40, 80, 80), (10, 40, 80, 80), (10, 10, 80, 80)]) == (10, 10, 80, 80)
    assert pick_face([(90, 40, 80, 80), (10, 40, 80, 80)]) == (10, 40, 80, 80)


@pytest.mark.parametrize("bad", [np.zeros((240, 320, 3), np.uint8), np.zeros((240, 320, 4), np.float32), "frame"])
def test_bad_frames_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="uint8 RGBA"):
        process_frame(bad)  # type: ignore[arg-type]


def test_constants_export_as_json() -> None:
    constants = json.loads(json.dumps(pipeline_constants()))
    assert constants["crop_size"] == PIPELINE.crop_size == 50
    assert constants["scale_factor"] == 1.1 and constants["min_neighbors"] == 3 and constants["min_face_size"] == 70
    assert constants["clahe_clip_limit"] == 40.0 and constants["clahe_tile_grid"] == 8
    assert isinstance(constants["version"], int)


def test_model_input_is_scaled_and_shaped() -> None:
    crops = np.array([[[0, 255], [51, 102]]], np.uint8)
    x = crops_to_input(crops)
    assert x.shape == (1, 2, 2, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
