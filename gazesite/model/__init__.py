"""The gaze model: architecture, dataset I/O, training, and loading for prediction.

Importing this package does not import TensorFlow; :func:`load_model` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gazesite.errors import ModelError

#: File names inside a gazesite model directory.
KERAS_FILE = "model.h5"
METADATA_FILE = "metadata.json"
VALIDATION_FILE = "validation.json.gz"
CURVE_FILE = "training.png"
#: The file that names a TF.js layers model's topology and weight files.
TFJS_MODEL_FILE = "model.json"


class GazeModel:
    """A loaded Keras gaze model that maps uint8 face crops to screen points."""

    def __init__(self, keras_model: Any, metadata: dict[str, Any], path: Path, format: str = "gazesite") -> None:
        self.keras_model = keras_model
        self.metadata = metadata
        self.path = path
        self.format = format

    @property
    def crop_size(self) -> int:
        """Side length of the square crops the model takes."""
        return int(self.keras_model.input_shape[1])

    @property
    def channels(self) -> int:
        """Input channels (a crop is repeated into each)."""
        return int(self.keras_model.input_shape[3])

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """Predict (N, 2) float32 screen points from uint8 crops (N, S, S)."""
        from gazesite.track.pipeline import crops_to_input

        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != (self.crop_size, self.crop_size):
            raise ValueError(f"crops must have shape (N, {self.crop_size}, {self.crop_size}), got {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, 2), np.float32)
        return np.asarray(self.keras_model.predict_on_batch(crops_to_input(crops, self.channels)), dtype=np.float32)


def load_model(path: Path | str) -> GazeModel:
    """Load a model for prediction: a gazesite directory, a Keras .h5/.keras file or a SavedModel."""
    from gazesite.model.formats import load_keras

    path = Path(path)
    loaded = load_keras(path)
    metadata: dict[str, Any] = {}
    metadata_path = path / METADATA_FILE
    if loaded.format == "gazesite" and metadata_path.is_file():
        from gazesite.bounded import InputError, read_json_object

        try:
            metadata = read_json_object(metadata_path)
        except InputError as exc:
            raise ModelError(f"model {path}: {METADATA_FILE} {exc}") from None
    return GazeModel(loaded.keras_model, metadata, path, loaded.format)
