"""Synthetic faces: deterministic, labelled, detectable, and their eyes follow the target."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

from gazesite.data import faces, generate
from gazesite.data.dataset import Dataset
from gazesite.data.faces import cartoon


def test_same_seed_same_frames_and_labels() -> None:
    a = list(itertools.islice(faces.samples("cartoon", seed=5), 6))
    b = list(itertools.islice(faces.samples("cartoon", seed=5), 6))
    c = list(itertools.islice(faces.samples("cartoon", seed=6), 6))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.frame, y.frame)
        assert x.target == y.target
    assert any(not np.array_equal(x.frame, z.frame) for x, z in zip(a, c, strict=True))


def test_frames_are_camera_sized_rgba_with_targets_in_range(synthetic_frames: list) -> None:
    for sample in synthetic_frames:
        assert sample.frame.shape == (240, 320, 4) and sample.frame.dtype == np.uint8
        assert np.all(sample.frame[..., 3] == 255)
        assert 0 <= sample.target[0] <= 1 and 0 <= sample.target[1] <= 1
    targets = np.array([s.target for s in synthetic_frames])
    assert targets.std(axis=0).min() > 0.15  # spread over the screen, not a constant


def test_only_the_eyes_move_with_the_gaze() -> None:
    identity = cartoon.random_identity(np.random.default_rng(11))
    noise_free = cartoon.Identity(**{**identity.__dict__, "noise_sigma": 0.0})
    left = cartoon.render_face(noise_free, (0.0, 0.5), np.random.default_rng(0)).astype(int)
    right = cartoon.render_face(noise_free, (1.0, 0.5), np.random.default_rng(0)).astype(int)
    changed = np.argwhere(np.abs(left - right).max(axis=2) > 8)
    assert len(changed) > 20
    eye_line = identity.center_y + identity.face_width * identity.aspect * (identity.eye_y - 0.5)
    # Every changed pixel lies within an eye's height of the eye line.
    assert np.all(np.abs(changed[:, 0] - eye_line) < identity.face_width * 0.15)


def test_iris_moves_as_an_unmirrored_webcam_shows_it() -> None:
    identity = cartoon.random_identity(np.random.default_rng(2))
    identity = cartoon.Identity(**{**identity.__dict__, "noise_sigma": 0.0, "tilt_deg": 0.0})
    eye_y = int(identity.center_y + identity.face_width * identity.aspect * (identity.eye_y - 0.5))
    centres = []
    for tx in (0.0, 1.0):
        frame = cartoon.render_face(identity, (tx, 0.5), np.random.default_rng(0))
        row = frame[eye_y, :, :3].mean(axis=1)
        left_eye = slice(int(identity.center_x - identity.face_width * 0.35), int(identity.center_x))
        darkness = 255 - row[left_eye]
        centres.append((darkness * np.arange(len(darkness))).sum() / darkness.sum())
    assert centres[1] < centres[0] - 1  # looking at screen-right moves the iris to the image's left (unmirrored webcam)


@pytest.mark.slow  # renders and detects hundreds of faces
def test_detection_rate_is_reported_and_high() -> None:
    data = generate.make_dataset(150, seed=9, workers=1, progress=False)
    assert len(data) == 150 and data.crops.shape == (150, 50, 50)
    assert 0.85 <= data.metadata["detection_rate"] <= 1.0
    assert data.targets.min() >= 0 and data.targets.max() <= 1


#: sha256 of crops then targets of make_dataset(40, seed=4) with default arguments: pins the cartoon
#: stream (unmirrored, as the page's camera delivers it) against unintended changes.
DEFAULT_DATASET_SHA256 = "7f1f79d15a556531f813c965316c7921acbaeff048cf71e72558e49703617e6c"


@pytest.fixture(scope="module")
def default_dataset() -> Dataset:
    """make_dataset(40, seed=4) with default arguments, one worker."""
    return generate.make_dataset(40, seed=4, workers=1, progress=False)


def test_default_dataset_is_unchanged(default_dataset: Dataset) -> None:
    digest = hashlib.sha256(default_dataset.crops.tobytes() + default_dataset.targets.tobytes()).hexdigest()
    assert digest == DEFAULT_DATASET_SHA256
    assert default_dataset.metadata == {
        "source": "synthetic",
        "seed": 4,
        "frames_rendered": 128,
        "detection_rate": 0.8828,
        "renderers": ["cartoon"],
        "augment": False,
    }


def test_dataset_does_not_depend_on_worker_count(default_dataset: Dataset) -> None:
    two = generate.make_dataset(40, seed=4, workers=2, progress=False)
    np.testing.assert_array_equal(default_dataset.crops, two.crops)
    np.testing.assert_array_equal(default_dataset.targets, two.targets)


def test_mixed_augmented_dataset_takes_turns_and_ignores_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks, so a few frames span several chunks (each chunk carries its size to the worker processes).
    monkeypatch.setattr(generate, "CHUNK_SIZE", 12)

    def mixed(workers: int) -> Dataset:
        return generate.make_dataset(30, seed=6, workers=workers, progress=False, renderers=("cartoon", "vector"), augment=True)

    one, two = mixed(1), mixed(2)
    np.testing.assert_array_equal(one.crops, two.crops)
    np.testing.assert_array_equal(one.targets, two.targets)
    assert one.metadata["renderers"] == ["cartoon", "vector"] and one.metadata["augment"] is True
    assert [faces.chunk_renderer(chunk, ("cartoon", "vector")) for chunk in range(3)] == ["cartoon", "vector", "cartoon"]
    plain = generate.make_dataset(30, seed=6, workers=1, progress=False, renderers=("cartoon", "vector"))
    assert not np.array_equal(plain.crops, one.crops)  # augmentation changed the frames...
    np.testing.assert_array_equal(plain.targets[:5], one.targets[:5])  # ...not which frames were drawn


@pytest.mark.parametrize("renderers", [("raycast",), ("cartoon", "raycast"), ("cartoon", "bogus"), ()])
def test_make_dataset_refuses_renderers_it_must_not_train_on(renderers: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="training renderers") as error:
        generate.make_dataset(8, seed=1, workers=1, progress=False, renderers=renderers)
    for name in renderers:
        if name != "cartoon":
            assert repr(name) in str(error.value)
