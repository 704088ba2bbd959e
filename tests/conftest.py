"""Shared fixtures: real and synthetic frames, and a small model trained once per run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gazesite.data import faces

from .helpers import to_rgba

BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser/ as `browser`, so `-m "not browser"` is the fast tier without a list to keep."""
    for item in items:
        if BROWSER_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def astronaut_rgba() -> np.ndarray:
    """scikit-image's astronaut photo (512x512, one real face) as RGBA."""
    from skimage import data

    return to_rgba(data.astronaut())


@pytest.fixture(scope="session")
def synthetic_frames() -> list[faces.SyntheticSample]:
    """Twenty labelled synthetic frames from a fixed seed."""
    stream = faces.samples("cartoon", seed=123)
    return [next(stream) for _ in range(20)]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained for seconds on a few hundred synthetic faces."""
    from gazesite.model.settings import TrainConfig
    from gazesite.model.training import train

    out = tmp_path_factory.mktemp("tiny") / "model"
    train(TrainConfig(out=out, synthetic=256, epochs=2, seed=3))
    return out
