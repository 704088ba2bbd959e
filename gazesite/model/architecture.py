"""The gaze CNN: a 50x50x1 face crop in, (x, y) in 0..1 of the screen out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gazesite.model.tf_env import import_keras
from gazesite.track.pipeline import PIPELINE

if TYPE_CHECKING:
    import tf_keras

keras = import_keras()


def build_model(crop_size: int = PIPELINE.crop_size) -> tf_keras.Model:
    """Return the untrained gaze CNN (about 50k parameters)."""
    layers = keras.layers
    # Three conv/pool stages keep where the iris sits (Flatten, no global
    # pooling): gaze is a position inside the eye, not a texture.
    inputs = keras.Input(shape=(crop_size, crop_size, 1), name="crop")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    x = layers.Dense(32, activation="relu", name="features")(x)
    outputs = layers.Dense(2, name="gaze")(x)
    return keras.Model(inputs, outputs, name="gazesite_cnn")
