"""Training on tiny data: outputs, metadata, the Python predict API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gazesite.data.dataset import load_dataset
from gazesite.model import load_model
from gazesite.model.training import split_blocks


def test_training_writes_model_metadata_and_curve(tiny_model_dir: Path) -> None:
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"model.h5", "metadata.json", "training.png", "validation.json.gz"} <= names
    assert (tiny_model_dir / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((tiny_model_dir / "metadata.json").read_text())
    assert meta["pipeline"]["crop_size"] == 50
    assert meta["input_shape"] == [50, 50, 1]
    assert 10_000 < meta["parameters"] < 100_000
    assert meta["data"]["samples"] == 256
    assert meta["data"]["train"] + meta["data"]["validation"] == 256
    assert meta["training"]["epochs_run"] == 2 and len(meta["training"]["curve"]["val_loss"]) == 2
    error = meta["validation"]["mean_euclidean_error"]
    assert 0 < error < 1
    assert meta["versions"]["tensorflow"] == "2.19.0"


def test_loaded_model_predicts_points_and_matches_recorded_error(tiny_model_dir: Path) -> None:
    model = load_model(tiny_model_dir)
    validation = load_dataset(tiny_model_dir / "validation.json.gz")
    predicted = model.predict(validation.crops)
    assert predicted.shape == (len(validation), 2) and predicted.dtype == np.float32
    recomputed = np.linalg.norm(predicted - validation.targets, axis=1).mean()
    # The saved validation crops are (a prefix of) the split the error was measured on.
    assert abs(recomputed - model.metadata["validation"]["mean_euclidean_error"]) < 0.05
    assert model.predict(np.zeros((0, 50, 50), np.uint8)).shape == (0, 2)


def test_split_holds_out_whole_blocks() -> None:
    train, val = split_blocks(100, 0.2, seed=0)
    assert len(set(train) & set(val)) == 0 and len(train) + len(val) == 100
    assert {v // 8 for v in val}.isdisjoint(t // 8 for t in train)
    again = split_blocks(100, 0.2, seed=0)
    np.testing.assert_array_equal(val, again[1])
    tiny_train, tiny_val = split_blocks(3, 0.2, seed=0)
    assert len(tiny_train) == 2 and len(tiny_val) == 1


#: The shipped model's error on faces it never saw (fresh seed), per training renderer, in screen
#: fractions (measured 0.116 and 0.245; the vector renderer's head poses and eye angles are harder).
#: Hedged for strangers (--strangers 12, factor 0.80), it gives up some of its accuracy on faces like its
#: training faces (0.088 and 0.243 unhedged) for faces unlike them; its validation error is in its metadata.
DEFAULT_MODEL_MAX_ERROR = {"cartoon": 0.13, "vector": 0.27}


@pytest.mark.slow  # renders and predicts hundreds of faces per renderer
@pytest.mark.parametrize("renderer", sorted(DEFAULT_MODEL_MAX_ERROR))
def test_default_model_is_accurate_on_fresh_synthetic_faces(renderer: str) -> None:
    from gazesite.data.generate import make_dataset
    from gazesite.paths import default_model_dir

    model = load_model(default_model_dir())
    fresh = make_dataset(256, seed=987654, workers=2, progress=False, renderers=(renderer,))
    error = float(np.linalg.norm(model.predict(fresh.crops) - fresh.targets, axis=1).mean())
    assert error <= DEFAULT_MODEL_MAX_ERROR[renderer], error
    # A model that ignored the eyes would score about 0.38 (always the screen centre).
    centre = float(np.linalg.norm(fresh.targets - 0.5, axis=1).mean())
    assert error < centre * 0.7
    assert model.metadata["validation"]["mean_euclidean_error"] <= 0.19
    assert model.metadata["data"]["sources"][0]["renderers"] == ["cartoon", "vector"]
    hedge = model.metadata["training"]["strangers"]
    assert hedge["people"] == 12 and hedge["factor"] < 1 and hedge["error_after"] < hedge["error_before"]


def test_the_shipped_model_is_what_make_model_trains() -> None:
    """The recipe in the Makefile and the one the shipped model records are the same (so `make model` reproduces it)."""
    import re
    import shlex

    from gazesite.paths import default_model_dir
    from tests.helpers.paths import ROOT_DIR

    line = re.search(r"^DEFAULT_MODEL_ARGS := (.*)$", (ROOT_DIR / "Makefile").read_text(), re.MULTILINE)
    assert line is not None
    words = shlex.split(line.group(1))
    # Options with a value, flags without (--augment).
    args = {
        word: value for word, value in zip(words, [*words[1:], ""], strict=True) if word.startswith("--") and not value.startswith("--")
    }
    meta = json.loads((default_model_dir() / "metadata.json").read_text())
    (source,) = meta["data"]["sources"]
    assert "--augment" in words and source["augment"] is True
    assert int(args["--synthetic"]) == source["synthetic"] and args["--renderers"].split(",") == source["renderers"]
    assert int(args["--seed"]) == source["seed"] == meta["training"]["seed"] and int(args["--epochs"]) == meta["training"]["epochs"]
    assert int(args["--strangers"]) == meta["training"]["strangers"]["people"]
