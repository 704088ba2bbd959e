"""Keras 3 files: read with Keras 3, rebuilt layer by layer in tf_keras (which the TF.js converter needs), same weights."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.errors import ModelError

#: How close a rebuilt Keras 3 model must predict to the original.
REBUILD_TOLERANCE = 1e-5


def keras3_module() -> Any:
    """Keras 3 itself, beside tf_keras."""
    import keras

    return keras


def rebuild_keras3(path: Path) -> Any:
    """Load a Keras 3 model and rebuild it layer by layer in tf_keras, with the same weights."""
    from gazesite.model.formats import unknown_object_error  # formats imports this module
    from gazesite.model.tf_env import import_keras

    keras3 = keras3_module()
    tf_keras = import_keras()
    try:
        original = keras3.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise unknown_object_error(path, exc) from None
    layers = [layer for layer in original.layers if type(layer).__name__ != "InputLayer"]
    if not _is_chain(original, layers):  # only a chain of layers translates one to one
        raise ModelError(
            f"model {path} is a Keras 3 model whose layers do not form a single chain: "
            "save it with tf_keras (Keras 2), which TensorFlow.js can load directly"
        )
    inputs = tf_keras.Input(shape=tuple(original.input_shape[1:]), name="crop")
    x = inputs
    for layer in layers:
        cls = getattr(tf_keras.layers, type(layer).__name__, None)
        if cls is None:
            raise ModelError(
                f"model {path} uses the custom layer '{type(layer).__name__}', which TensorFlow.js cannot run: "
                "rebuild the model from built-in Keras layers and save it again"
            )
        rebuilt = cls.from_config(_tf_keras_config(layer.get_config()))
        x = rebuilt(x)
        rebuilt.set_weights(layer.get_weights())
    model = tf_keras.Model(inputs, x, name=original.name)
    probe = np.random.default_rng(0).uniform(0, 1, (2, *original.input_shape[1:])).astype(np.float32)
    difference = float(np.abs(np.asarray(original(probe)) - model(probe).numpy()).max())
    if difference > REBUILD_TOLERANCE:
        raise ModelError(f"model {path}: the tf_keras rebuild of this Keras 3 model predicts differently (|difference| {difference:.1e})")
    return model


def _is_chain(model: Any, layers: list[Any]) -> bool:
    """True when every layer takes the previous layer's output and nothing else."""
    if type(model).__name__ == "Sequential":
        return True
    for previous, layer in itertools.pairwise(layers):
        parents = {parent.operation.name for node in layer._inbound_nodes for parent in node.parent_nodes}
        if parents != {previous.name}:
            return False
    return True


def _tf_keras_config(config: dict[str, Any]) -> dict[str, Any]:
    """Translate a Keras 3 layer config to tf_keras: plain dtypes, no training-only objects."""
    translated = {}
    for key, value in config.items():
        if key == "dtype":
            translated[key] = value.get("config", {}).get("name", "float32") if isinstance(value, dict) else value
        elif isinstance(value, dict) and "class_name" in value:
            # Initializers, regularizers, constraints: the weights are copied and
            # inference never uses them, so tf_keras's defaults do.
            continue
        elif key in ("quantization_config", "build_config"):
            continue
        else:
            translated[key] = value
    return translated
