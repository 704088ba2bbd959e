"""Shared fixtures: real and synthetic frames, and a small model trained once per run."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from gazesite.data import synthetic


def to_rgba(rgb: np.ndarray) -> np.ndarray:
    """Turn an RGB uint8 image into the RGBA layout browsers hand to the pipeline."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA)


@pytest.fixture(scope="session")
def astronaut_rgba() -> np.ndarray:
    """scikit-image's astronaut photo (512x512, one real face) as RGBA."""
    from skimage import data

    return to_rgba(data.astronaut())


@pytest.fixture(scope="session")
def synthetic_frames() -> list[synthetic.SyntheticSample]:
    """Twenty labelled synthetic frames from a fixed seed."""
    stream = synthetic.samples(seed=123)
    return [next(stream) for _ in range(20)]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained for seconds on a few hundred synthetic faces."""
    from gazesite.config import TrainConfig
    from gazesite.model.training import train

    out = tmp_path_factory.mktemp("tiny") / "model"
    train(TrainConfig(out=out, synthetic=256, epochs=2, seed=3))
    return out
