"""Hedging for strangers: the fitted factor, folding it into the last layer, and a training run that does both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gazesite.data import faces
from gazesite.errors import ConfigError, ModelError
from gazesite.model.settings import MAX_STRANGERS, TrainConfig
from gazesite.model.strangers import FACTORS, fit_factor, fold_factor, hedged, stranger_crops


def _people(rng: np.random.Generator, slope: float, offset: float, count: int = 6) -> list[tuple[np.ndarray, np.ndarray]]:
    """(predicted, targets) per person: the model follows a stranger's gaze with this slope, from a random offset."""
    groups = []
    for _ in range(count):
        targets = rng.uniform(0.05, 0.95, (40, 2))
        bias = rng.normal(0, offset, 2)
        groups.append((0.5 + slope * (targets - 0.5) + bias + rng.normal(0, 0.05, (40, 2)), targets))
    return groups


def test_a_model_that_follows_strangers_exactly_is_not_hedged() -> None:
    targets = np.random.default_rng(0).uniform(0, 1, (40, 2))
    fitted = fit_factor([(targets.copy(), targets)] * 3)
    assert fitted.factor == 1.0 and fitted.error_after == fitted.error_before == 0.0


def test_a_model_that_overshoots_on_strangers_is_moved_toward_the_centre() -> None:
    groups = _people(np.random.default_rng(1), slope=0.4, offset=0.15)
    fitted = fit_factor(groups)
    assert fitted.factor < 0.9 and fitted.people == 6
    assert fitted.error_after < fitted.error_before
    # The least error of every factor tried, each person weighing the same.
    errors = [np.mean([np.linalg.norm(hedged(p, k) - t, axis=1).mean() for p, t in groups]) for k in FACTORS]
    assert fitted.error_after == pytest.approx(min(errors), abs=1e-5)


def test_no_stranger_found_is_a_one_line_error() -> None:
    with pytest.raises(ModelError, match="no stranger's face"):
        fit_factor([])


def test_folding_moves_the_model_output_toward_the_centre(tiny_model_dir: Path) -> None:
    from gazesite.model import load_model

    model = load_model(tiny_model_dir)
    crops = np.random.default_rng(2).integers(0, 256, (5, 50, 50), dtype=np.uint8)
    before = model.predict(crops)
    fold_factor(model.keras_model, 0.6)
    np.testing.assert_allclose(model.predict(crops), 0.5 + 0.6 * (before - 0.5), atol=1e-5)


def test_a_model_not_ending_in_two_linear_outputs_is_refused() -> None:
    from gazesite.model.architecture import keras

    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="sigmoid")(inputs))
    with pytest.raises(ModelError, match="expected a linear Dense of 2 outputs"):
        fold_factor(model, 0.5)


def test_strangers_are_people_the_bench_never_measures() -> None:
    crops = stranger_crops(("vector",), 2)
    assert len(crops) == 2 and all(c.shape[1:] == (50, 50) and len(c) == len(t) for c, t in crops)
    strangers = faces.unseen_people("vector", 2, tag=faces.STRANGER_TAG)
    assert not any(person in faces.unseen_people("vector", 6) for person in strangers)


def test_bad_stranger_settings_are_refused(tmp_path: Path) -> None:
    for strangers in (-1, MAX_STRANGERS + 1, 10**9):
        with pytest.raises(ConfigError, match=f"--strangers must be between 0 and {MAX_STRANGERS}, got {strangers}"):
            TrainConfig(out=tmp_path / "out", synthetic=10, strangers=strangers).validate()
    # Strangers are drawn by the synthetic faces' renderers: a model trained on recordings only has none.
    recordings = tmp_path / "recordings.json"
    recordings.write_text("{}")
    with pytest.raises(ConfigError, match="give --synthetic N as well"):
        TrainConfig(out=tmp_path / "out", data=(recordings,), strangers=4).validate()


@pytest.mark.slow  # a short training run and 4 strangers
def test_training_with_strangers_records_and_applies_the_hedge(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gazesite.commands import cli

    out = tmp_path / "model"
    args = ["train", "--synthetic", "256", "--renderers", "cartoon,vector", "--epochs", "2", "--strangers", "4", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    hedge = json.loads((out / "metadata.json").read_text())["training"]["strangers"]
    assert hedge["renderers"] == ["cartoon", "vector"] and hedge["people"] == 4
    assert hedge["factor"] in FACTORS and hedge["error_after"] <= hedge["error_before"]
