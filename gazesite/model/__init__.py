"""The gaze model: architecture, dataset I/O, training, and loading for prediction.

Importing this package does not import TensorFlow; :func:`load_model` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.errors import ModelError

#: File names inside a gazesite model directory.
KERAS_FILE = "model.h5"
METADATA_FILE = "metadata.json"
VALIDATION_FILE = "validation.json.gz"
CURVE_FILE = "training.png"


class GazeModel:
    """A loaded Keras gaze model that maps uint8 face crops to screen points."""

    def __init__(self, keras_model: Any, metadata: dict[str, Any], path: Path) -> None:
        self.keras_model = keras_model
        self.metadata = metadata
        self.path = path

    @property
    def crop_size(self) -> int:
        """Side length of the square crops the model takes."""
        return int(self.keras_model.input_shape[1])

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """Predict (N, 2) float32 screen points from uint8 crops (N, S, S)."""
        from gazesite.pipeline import crops_to_input

        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != (self.crop_size, self.crop_size):
            raise ValueError(f"crops must have shape (N, {self.crop_size}, {self.crop_size}), got {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, 2), np.float32)
        return np.asarray(self.keras_model.predict_on_batch(crops_to_input(crops)), dtype=np.float32)


def model_file(path: Path) -> Path:
    """Return the Keras file of a model directory (or the file itself)."""
    path = Path(path)
    return path / KERAS_FILE if path.is_dir() else path


def load_model(path: Path | str) -> GazeModel:
    """Load a gazesite model directory (or its Keras .h5 file) for prediction."""
    path = Path(path)
    expected = f"expected a folder made by 'gazesite train' ({KERAS_FILE} + {METADATA_FILE})"
    if not path.exists():
        raise ModelError(f"model {path} does not exist: {expected}")
    keras_path = model_file(path)
    if not keras_path.is_file():
        raise ModelError(f"model {path} has no {KERAS_FILE}: {expected}")
    metadata: dict[str, Any] = {}
    metadata_path = keras_path.parent / METADATA_FILE
    if metadata_path.is_file():
        try:
            metadata = json.loads(metadata_path.read_text())
        except ValueError as exc:
            raise ModelError(f"model {path}: {METADATA_FILE} is not valid JSON ({exc})") from None
    from gazesite.model.architecture import keras

    try:
        keras_model = keras.models.load_model(keras_path, compile=False)
    except Exception as exc:  # h5py, OSError, ValueError...: all mean "not a model we can read"
        raise ModelError(f"model {keras_path} could not be loaded ({type(exc).__name__}: {exc}): expected a Keras HDF5 model") from None
    shape = tuple(keras_model.input_shape[1:])
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] != 1 or tuple(keras_model.output_shape[1:]) != (2,):
        raise ModelError(f"model {keras_path} maps {shape} to {tuple(keras_model.output_shape[1:])}: expected (S, S, 1) crops to 2 values (x, y)")
    return GazeModel(keras_model, metadata, path)
