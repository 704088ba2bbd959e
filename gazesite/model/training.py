"""Train the gaze CNN on datasets and synthetic faces; write a model directory."""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

import gazesite
from gazesite.data.dataset import Dataset, check_crop_size, load_dataset, mean_euclidean_error, save_dataset, summarize
from gazesite.errors import DatasetError
from gazesite.model import CURVE_FILE, KERAS_FILE, METADATA_FILE, VALIDATION_FILE, GazeModel
from gazesite.model.settings import TrainConfig
from gazesite.staging import staged_directory
from gazesite.track.pipeline import crops_to_input, pipeline_constants

log = logging.getLogger(__name__)

#: Neighbouring frames of one recording (or one synthetic person) are near
#: duplicates; splitting in blocks keeps them on the same side of the split.
SPLIT_BLOCK = 8
#: How many validation crops the model directory keeps for conversion checks.
KEPT_VALIDATION_CROPS = 128


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced."""

    out: Path
    validation_error: float
    parameters: int
    epochs_run: int


def gather_data(config: TrainConfig) -> Dataset:
    """Load every --data file and render the --synthetic faces into one dataset."""
    parts: list[Dataset] = []
    sources: list[dict[str, Any]] = []
    for path in config.data:
        part = load_dataset(path)
        check_crop_size(part, str(path))
        parts.append(part)
        sources.append({"file": Path(path).name, **summarize(part)})
    if config.synthetic:
        from gazesite.data.generate import make_dataset

        part = make_dataset(config.synthetic, config.seed, renderers=config.renderers, augment=config.augment)
        parts.append(part)
        sources.append(
            {
                "synthetic": config.synthetic,
                "seed": config.seed,
                "detection_rate": part.metadata["detection_rate"],
                "renderers": part.metadata["renderers"],
                "augment": part.metadata["augment"],
            }
        )
    return Dataset.concatenate(parts, {"sources": sources})


def split_blocks(count: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (train, validation) indices, holding out whole blocks of neighbours."""
    blocks = np.arange(count) // SPLIT_BLOCK
    block_ids = np.unique(blocks)
    rng = np.random.default_rng(seed)
    held_out = max(1, round(len(block_ids) * fraction)) if len(block_ids) > 1 else 0
    chosen = rng.permutation(block_ids)[:held_out]
    is_val = np.isin(blocks, chosen)
    if held_out == 0:  # a single block: validate on its last sample so training still has data
        is_val[-1] = True
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def _epoch_bar(epochs: int) -> Any:
    from tqdm import tqdm

    from gazesite.model.architecture import keras

    class EpochBar(keras.callbacks.Callback):
        """One tqdm step per epoch, showing the losses."""

        def on_train_begin(self, logs: Any = None) -> None:
            self.bar = tqdm(total=epochs, desc="training", unit="epoch")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = logs or {}
            self.bar.set_postfix(loss=f"{logs.get('loss', 0):.4f}", val_loss=f"{logs.get('val_loss', 0):.4f}")
            self.bar.update(1)

        def on_train_end(self, logs: Any = None) -> None:
            self.bar.close()

    return EpochBar()


def train(config: TrainConfig) -> TrainResult:
    """Train a model as configured and write it to ``config.out``."""
    config.validate()
    initial = load_init(config)  # first: a model gazesite refuses should not wait for the data
    data = gather_data(config)
    if len(data) < 2:
        raise DatasetError(f"training needs at least 2 samples, the data has {len(data)}")

    import tensorflow as tf

    from gazesite.model.architecture import keras  # first: it sets up TensorFlow's environment

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    train_idx, val_idx = split_blocks(len(data), config.validation_fraction, config.seed)
    x_train, y_train = crops_to_input(data.crops[train_idx]), data.targets[train_idx]
    x_val, y_val = crops_to_input(data.crops[val_idx]), data.targets[val_idx]
    log.info("training on %d samples, validating on %d", len(train_idx), len(val_idx))

    model, initial_error = starting_model(config, initial, data.crop_size, x_val, y_val)
    # Fine-tuning starts near a good solution: a smaller step keeps it there.
    model.compile(optimizer=keras.optimizers.Adam(3e-4 if config.init else 1e-3), loss="mse")
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(1, config.patience // 2)),
            _epoch_bar(config.epochs),
        ],
    )
    hedge = None
    if config.strangers:
        from gazesite.model.strangers import hedge as fit_hedge

        hedge = fit_hedge(model, lambda crops: model.predict(crops_to_input(crops), verbose=0), config.renderers, config.strangers)
        log.info("strangers: factor %.2f, their error %.4f -> %.4f", hedge.factor, hedge.error_before, hedge.error_after)
    predicted = model.predict(x_val, verbose=0)
    error = mean_euclidean_error(predicted, y_val)
    distances = np.linalg.norm(predicted - y_val, axis=1)
    curve = {key: [float(v) for v in values] for key, values in history.history.items() if key != "lr"}

    parameters = int(model.count_params())
    epochs_run = len(curve["loss"])
    metadata = {
        "format": "gazesite-model",
        "version": 1,
        "pipeline": pipeline_constants(),
        "input_shape": [data.crop_size, data.crop_size, 1],
        "output": "gaze point (x, y) in 0..1 of the screen, (0, 0) top-left",
        "parameters": parameters,
        "data": {"samples": len(data), "train": len(train_idx), "validation": len(val_idx), "sources": data.metadata["sources"]},
        "training": {
            "epochs": config.epochs,
            "epochs_run": epochs_run,
            "seed": config.seed,
            "batch_size": config.batch_size,
            "init": None if config.init is None else {"model": str(config.init), "validation_error_before": round(initial_error, 5)},
            "curve": curve,
            "strangers": None if hedge is None else {"renderers": list(config.renderers), **asdict(hedge)},
        },
        "validation": {
            "mean_euclidean_error": round(error, 5),
            "median_euclidean_error": round(float(np.median(distances)), 5),
            "p90_euclidean_error": round(float(np.percentile(distances, 90)), 5),
            "unit": "fraction of the screen",
        },
        "versions": {
            "gazesite": gazesite.__version__,
            "tensorflow": tf.__version__,
            "tf_keras": keras.__version__,
            "python": platform.python_version(),
        },
    }
    kept = val_idx[:KEPT_VALIDATION_CROPS]
    _write_model_dir(config.out, model, metadata, Dataset(data.crops[kept], data.targets[kept], {"source": "validation split"}))
    log.debug("validation mean Euclidean error %.4f of the screen, %d parameters", error, parameters)
    return TrainResult(config.out, error, parameters, epochs_run)


def load_init(config: TrainConfig) -> GazeModel | None:
    """Load the --init model, if any."""
    from gazesite.model import load_model

    return None if config.init is None else load_model(config.init)


def starting_model(
    config: TrainConfig, initial: GazeModel | None, crop_size: int, x_val: np.ndarray, y_val: np.ndarray
) -> tuple[Any, float]:
    """Return the model to train (fresh, or --init's weights) and its error on the validation split."""
    from gazesite.model.architecture import build_model

    if initial is None:
        return build_model(crop_size), float("nan")
    if initial.crop_size != crop_size:
        raise DatasetError(f"--init {config.init} takes {initial.crop_size}px crops, the data has {crop_size}px crops")
    error = mean_euclidean_error(initial.keras_model.predict(x_val, verbose=0), y_val)
    log.info("--init %s: validation error before fine-tuning %.4f", config.init, error)
    return initial.keras_model, error


def _write_model_dir(out: Path, model: Any, metadata: dict[str, Any], validation: Dataset) -> None:
    """Write the model folder completely or not at all."""
    with staged_directory(out) as staging:
        model.save(staging / KERAS_FILE, include_optimizer=False)
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        save_dataset(validation, staging / VALIDATION_FILE)
        plot_curve(metadata["training"]["curve"], staging / CURVE_FILE)


def plot_curve(curve: dict[str, list[float]], path: Path) -> None:
    """Draw training and validation loss per epoch as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    epochs = range(1, len(curve["loss"]) + 1)
    ax.plot(epochs, curve["loss"], label="training loss (MSE)")
    if "val_loss" in curve:
        ax.plot(epochs, curve["val_loss"], label="validation loss (MSE)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    # Fixed metadata keeps the PNG byte-identical for identical curves.
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
