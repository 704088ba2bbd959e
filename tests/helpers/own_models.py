"""Models as users bring them: other formats, other input shapes, and the known traps."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.model.tf_env import import_keras


def small_cnn(keras: Any, shape: tuple[int, int, int], outputs: int = 2, **dense_options: Any) -> Any:
    """A tiny gaze-like CNN in the given Keras (tf_keras or Keras 3); both ship without type information, hence Any."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=shape),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(outputs, **dense_options),
        ]
    )


def tf_keras_h5(path: Path, shape: tuple[int, int, int] = (64, 64, 1), **options: Any) -> Path:
    """A tf_keras model saved as HDF5; ``options`` go to its last Dense layer."""
    keras = import_keras()
    keras.utils.set_random_seed(1)
    small_cnn(keras, shape, **options).save(path)
    return path


def keras3_file(path: Path, shape: tuple[int, int, int] = (50, 50, 1)) -> Path:
    """A Keras 3 model saved as .keras (what TF.js 4.22 cannot load directly)."""
    import keras

    keras.utils.set_random_seed(2)
    small_cnn(keras, shape).save(path)
    return path


def saved_model_dir(path: Path, shape: tuple[int, int, int] = (50, 50, 1)) -> Path:
    """A tf_keras model saved as a TensorFlow SavedModel directory."""
    keras = import_keras()
    keras.utils.set_random_seed(3)
    small_cnn(keras, shape).save(path, save_format="tf")
    return path


def custom_layer_h5(path: Path) -> Path:
    """A model with a custom layer class, saved without it."""
    keras: Any = import_keras()  # declared, not inferred: mypy accepts a base class read from an Any only when it is declared

    class Brighten(keras.layers.Layer):
        def call(self, inputs: Any) -> Any:
            return inputs * 1.5

    model = keras.Sequential([keras.Input(shape=(50, 50, 1)), Brighten(), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(path)
    return path


def custom_activation_h5(path: Path) -> Path:
    """A model whose Dense layer uses a custom activation function."""

    def squashed(x: Any) -> Any:
        return x / (1 + abs(x))

    return tf_keras_h5(path, (50, 50, 1), activation=squashed)


def custom_regularizer_h5(path: Path) -> Path:
    """A model carrying a training-only custom regularizer in its config."""
    keras = import_keras()

    def tiny_l1(weights: Any) -> Any:
        return 1e-4 * keras.backend.sum(keras.backend.abs(weights))

    with warnings.catch_warnings():  # saving a plain function as regularizer is the trap being built
        warnings.simplefilter("ignore")
        return tf_keras_h5(path, (50, 50, 1), kernel_regularizer=tiny_l1)


def lambda_h5(path: Path) -> Path:
    """A model with a Lambda layer (Python code inside)."""
    keras = import_keras()
    model = keras.Sequential(
        [keras.Input(shape=(50, 50, 1)), keras.layers.Lambda(lambda x: x * 2.0), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.save(path)
    return path


def random_crops(count: int, size: int) -> np.ndarray:
    """Uint8 crops for shape checks."""
    return np.random.default_rng(0).integers(0, 256, (count, size, size), dtype=np.uint8)


def marker_lambda(keras: Any, marker: Path) -> Any:
    """A model whose Lambda layer appends to ``marker`` whenever its Python code runs (Keras runs it to rebuild the model)."""
    trap = lambda x, marker=str(marker): (open(marker, "a").write("ran\n"), x)[1]  # noqa: E731, SIM115 - a lambda is the trap, and a lambda cannot hold a with statement
    return keras.Sequential([keras.Input(shape=(50, 50, 1)), keras.layers.Lambda(trap), keras.layers.Flatten(), keras.layers.Dense(2)])


def marker_lambda_model(path: Path, marker: Path, kind: str) -> Path:
    """The marker trap saved as ``kind`` (h5, gazesite, tf_keras, keras3, savedmodel); saving runs it once, so the marker is removed."""
    import keras as keras3

    keras = keras3 if kind == "keras3" else import_keras()
    model = marker_lambda(keras, marker)
    if kind == "gazesite":
        path.mkdir()
        model.save(path / "model.h5")
        (path / "metadata.json").write_text("{}")
    elif kind == "savedmodel":
        model.save(path, save_format="tf")
    else:
        model.save(path)
    marker.unlink(missing_ok=True)
    return path
