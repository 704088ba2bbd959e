"""Recognise and load the model formats gazesite accepts, turning every trap into one line.

Accepted: a gazesite model directory (``model.h5`` + ``metadata.json``), a
Keras HDF5 file (``.h5``), a Keras ``.keras`` file saved by tf_keras or by
Keras 3, and a TensorFlow SavedModel directory saved from a Keras model.
TensorFlow.js 4.22 loads only Keras 2 layer models, so a Keras 3 model is
rebuilt layer by layer in tf_keras and checked to predict the same.
(A TF.js layers model directory is recognised too; ``gazesite build`` uses it as it is.)

Loading a Keras model can run code: a ``Lambda`` layer carries Python
bytecode that Keras runs while it rebuilds the model. So the saved config
(HDF5 ``model_config``, the archive's ``config.json``, the SavedModel's
``keras_metadata.pb``) is read as plain JSON first, within bounds, and the
model is refused unless every object in it is a built-in Keras one; only
then does Keras deserialise it, in its safe mode.
"""

from __future__ import annotations

import contextlib
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gazesite.bounded import (
    MAX_JSON_BYTES,
    MAX_MODEL_BYTES,
    InputError,
    check_zip,
    parse_json,
    read_bounded,
    read_head,
    read_zip_member,
    size_text,
)
from gazesite.errors import ModelError
from gazesite.model import KERAS_FILE, TFJS_MODEL_FILE
from gazesite.model.keras3 import keras3_module, rebuild_keras3
from gazesite.track.pipeline import input_shape_problem

#: Layers that hold Python code or raw TensorFlow ops: TF.js cannot run them.
PYTHON_ONLY_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
#: How Keras 3 stores a Python lambda (an activation, say) in a config.
_KERAS3_LAMBDA = "__lambda__"
#: Where Keras keeps each kind of built-in object; a config may name only these.
_KERAS_NAMESPACES = (
    "layers",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
    "losses",
    "metrics",
    "optimizers",
    "mixed_precision",
    "dtype_policies",
)
#: Class names that describe data, not code, in saved configs (tuples, tensor specs, dtype policies, graph links).
_DATA_CLASS_NAMES = {
    "Sequential",
    "Functional",
    "Model",
    "__tuple__",
    "TensorShape",
    "TypeSpec",
    "InputSpec",
    "DTypePolicy",
    "Policy",
    "__keras_tensor__",
}
#: Names in the Keras namespaces that are helpers, not objects a config may name.
_NOT_OBJECTS = {"get", "serialize", "deserialize", "Layer"}
#: The file in a SavedModel folder that holds the Keras configs.
KERAS_METADATA_FILE = "keras_metadata.pb"
#: Parts of a saved config that only matter while training.
_TRAINING_ONLY = {"regularizer", "constraint", "loss", "metric"}
#: Enough bytes to tell HDF5 (8-byte signature) from a zip archive (2 bytes).
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_FUNCTION_NAME = re.compile(r"'class_name': 'function', 'config': '([\w.]+)'")
_UNKNOWN = re.compile(
    r"Unknown (layer|activation|loss|metric|object|initializer|regularizer|constraint)[^:'\"]*[:\s]+['\"]?([\w.>-]+)", re.I
)


@dataclass(frozen=True)
class LoadedModel:
    """A tf_keras model ready for TF.js, and where it came from."""

    keras_model: Any
    format: str  # gazesite | h5 | keras | savedmodel
    keras_version: str
    path: Path


def detect_format(path: Path) -> str:
    """Name the model format at ``path``, or raise ModelError if it is none of them."""
    path = Path(path)
    expected = "expected a gazesite model directory, a TF.js model directory, a Keras .h5 or .keras file, or a SavedModel directory"
    if not path.exists():
        raise ModelError(f"model {path} does not exist: {expected}")
    if path.is_dir():
        if (path / TFJS_MODEL_FILE).is_file():
            return "tfjs"
        if (path / KERAS_FILE).is_file():
            return "gazesite"
        if (path / "saved_model.pb").is_file():
            return "savedmodel"
        raise ModelError(f"model {path} is a folder without model.json, {KERAS_FILE} or saved_model.pb: {expected}")
    try:
        head = read_head(path, len(HDF5_SIGNATURE))  # never the whole file: it may be /dev/zero
    except InputError as exc:
        raise ModelError(f"model {path} {exc}: {expected}") from None
    if head.startswith(HDF5_SIGNATURE):
        return "h5"
    if head.startswith(b"PK") and zipfile.is_zipfile(path):
        try:
            check_zip(path, MAX_MODEL_BYTES)  # before Keras unpacks anything: it may be a zip bomb
        except InputError as exc:
            raise ModelError(f"model {path} {exc}: {expected}") from None
        return "keras"
    raise ModelError(f"model {path} is not a model file (neither HDF5 nor a .keras archive): {expected}")


def keras3_version(path: Path) -> str | None:
    """Return the Keras version stored in a .keras archive (None for tf_keras archives)."""
    try:
        with zipfile.ZipFile(path) as archive:
            meta = parse_json(read_zip_member(archive, "metadata.json", MAX_JSON_BYTES))
    except (KeyError, InputError, zipfile.BadZipFile):
        return None
    version = str(meta.get("keras_version", "")) if isinstance(meta, dict) else ""
    return version if version.startswith("3") else None


def unknown_object_error(path: Path, exc: Exception) -> ModelError:
    """Turn a deserialisation failure into a message that names the missing piece."""
    text = str(exc)
    match = _UNKNOWN.search(text)
    if match:
        kind, name = match.group(1).lower(), match.group(2)
        if name == "function":  # a plain Python function: its own name sits in the layer config
            named = _FUNCTION_NAME.search(text)
            name = named.group(1) if named else "a Python function"
        return custom_object_error(path, kind, name)
    return unreadable_error(path, exc)


def unreadable_error(path: Path, exc: Exception) -> ModelError:
    """A model file that cannot be read at all."""
    return ModelError(f"model {path} could not be loaded ({type(exc).__name__}: {exc}): expected a Keras model gazesite can read")


def custom_object_error(path: Path, kind: str, name: str) -> ModelError:
    """A config that names an object outside Keras: its code is not in the file, and TF.js could not run it."""
    if kind in _TRAINING_ONLY:
        return ModelError(
            f"model {path} was saved with the custom {kind} '{name}', a training-only setting that cannot be reloaded "
            "without its code: build the same model without it, copy the weights over (set_weights), and save that"
        )
    return ModelError(
        f"model {path} uses the custom {kind} '{name}', which gazesite cannot load or TensorFlow.js run: "
        "rebuild the model from built-in Keras layers and activations, retrain, and save it again"
    )


def python_code_error(path: Path, layer: str, class_name: str) -> ModelError:
    """A layer that carries Python code or raw TensorFlow ops."""
    return ModelError(
        f"model {path}: layer '{layer}' ({class_name}) holds Python code that TensorFlow.js cannot run: "
        "replace it with built-in Keras layers"
    )


def saved_configs(path: Path, kind: str, source: Path) -> list[Any]:
    """Read a model's saved config(s) as plain JSON, within bounds, without deserialising anything."""
    if kind in ("h5", "gazesite"):
        return [hdf5_config(source)]
    if kind == "keras":
        return [archive_config(source)]
    return savedmodel_configs(source)


def hdf5_config(source: Path) -> Any:
    """The ``model_config`` attribute of a Keras HDF5 file."""
    import h5py

    if source.stat().st_size > MAX_MODEL_BYTES:  # bounds the attribute too: HDF5 never compresses attributes
        raise ModelError(f"model {source} is larger than {size_text(MAX_MODEL_BYTES)}: expected a model small enough for a web page")
    try:
        with h5py.File(source, "r") as handle:
            raw = handle.attrs.get("model_config")
    except (OSError, ValueError, TypeError) as exc:
        raise unreadable_error(source, exc) from None
    if raw is None:
        raise ModelError(f"model {source} is an HDF5 file without a model config (weights only?): save the whole model with model.save")
    if not isinstance(raw, (str, bytes)) or len(raw) > MAX_JSON_BYTES:
        raise ModelError(f"model {source}: its model_config is not JSON text of at most {size_text(MAX_JSON_BYTES)}")
    return parse_config(source, raw)


def archive_config(source: Path) -> Any:
    """The ``config.json`` of a .keras archive (tf_keras or Keras 3)."""
    try:
        with zipfile.ZipFile(source) as archive:
            raw = read_zip_member(archive, "config.json", MAX_JSON_BYTES)
    except KeyError:
        raise ModelError(f"model {source} is a zip archive without config.json: expected a .keras model") from None
    except (InputError, zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"model {source} {exc}: expected a .keras model") from None
    return parse_config(source, raw)


def savedmodel_configs(source: Path) -> list[Any]:
    """The per-object configs in a SavedModel's ``keras_metadata.pb`` (call after import_keras)."""
    metadata_file = source / KERAS_METADATA_FILE
    if not metadata_file.exists():
        raise ModelError(f"model {source} is a SavedModel without a Keras model inside: save the Keras model itself (model.save)")
    from google.protobuf.message import DecodeError
    from tf_keras.protobuf import saved_metadata_pb2

    metadata = saved_metadata_pb2.SavedMetadata()
    try:
        metadata.ParseFromString(read_bounded(metadata_file, MAX_JSON_BYTES))
    except InputError as exc:
        raise ModelError(f"model {source}: {KERAS_METADATA_FILE} {exc}") from None
    except DecodeError as exc:
        raise unreadable_error(metadata_file, exc) from None
    return [parse_config(metadata_file, node.metadata) for node in metadata.nodes if node.metadata]


def parse_config(source: Path, raw: str | bytes) -> Any:
    """Parse a saved config, turning bad JSON into one line."""
    try:
        return parse_json(raw)
    except InputError as exc:
        raise ModelError(f"model {source}: its saved config {exc}") from None


def builtin_names(*keras_modules: Any) -> frozenset[str]:
    """Every object name a config may use: what the given Keras modules ship, minus code-carrying layers."""
    names = set(_DATA_CLASS_NAMES)
    for module in keras_modules:
        for namespace in _KERAS_NAMESPACES:
            names.update(name for name in dir(getattr(module, namespace, None)) if not name.startswith("_"))
    return frozenset(names - _NOT_OBJECTS - PYTHON_ONLY_LAYERS)


def check_config(source: Path, config: Any, allowed: frozenset[str]) -> None:
    """Raise ModelError if a saved config names a Lambda-like layer or any object that is not built into Keras."""
    pending: list[tuple[Any, str | None, str]] = [(config, None, "?")]
    while pending:  # every object in the config, whatever wraps it
        item, key, layer = pending.pop()
        if isinstance(item, list):
            pending.extend((child, key, layer) for child in item)
            continue
        if not isinstance(item, dict):
            continue
        if "class_name" in item:
            layer = check_object(source, item, object_kind(key), layer, allowed)
        pending.extend((child, name, layer) for name, child in item.items())


def check_object(source: Path, item: dict[str, Any], kind: str, layer: str, allowed: frozenset[str]) -> str:
    """Check one serialised object; return the name of the layer it belongs to."""
    class_name, inner, module = item.get("class_name"), item.get("config"), item.get("module")
    if kind == "layer" and isinstance(inner, dict) and isinstance(inner.get("name"), str):
        layer = inner["name"]
    if class_name in PYTHON_ONLY_LAYERS:
        raise python_code_error(source, layer, str(class_name))
    if class_name == _KERAS3_LAMBDA:
        raise python_code_error(source, layer, f"a Python lambda as its {kind}")
    if class_name == "function":  # a function by name, e.g. an activation: built in, or custom code
        class_name = inner
    keras_module = module is None or (isinstance(module, str) and module.split(".")[0] in ("keras", "tf_keras"))
    if not isinstance(class_name, str) or class_name not in allowed or not keras_module:
        raise custom_object_error(source, kind, str(class_name))
    return layer


def object_kind(key: str | None) -> str:
    """What a config key holds: a layer, an activation, an initializer, ..."""
    if key is None or key in ("layers", "layer", "forward_layer", "backward_layer", "cell", "cells", "model_config"):
        return "layer"
    for kind in ("activation", "initializer", "regularizer", "constraint", "loss", "metric"):
        if key.endswith((kind, kind + "s")):
            return kind
    return "object"


def safe_mode() -> Any:
    """tf_keras's own refusal of Lambda bytecode, which its HDF5 and SavedModel loaders skip unless this scope is set."""
    try:
        from tf_keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # an internal module; check_config is the guard that counts
        return contextlib.nullcontext()
    return SafeModeScope(True)


def load_keras(path: Path) -> LoadedModel:
    """Load any accepted format as a tf_keras model and check it maps face crops to (x, y)."""
    path = Path(path)
    kind = detect_format(path)
    if kind == "tfjs":
        raise ModelError(f"model {path} is already a TF.js model: pass it to 'gazesite build --model', there is nothing to convert")
    from gazesite.model.tf_env import import_keras

    keras = import_keras()
    source = path / KERAS_FILE if kind == "gazesite" else path
    version = keras3_version(path) if kind == "keras" else None
    allowed = builtin_names(keras, keras3_module()) if version else builtin_names(keras)
    for config in saved_configs(path, kind, source):  # before anything is deserialised
        check_config(source, config, allowed)
    try:
        # Loaders warn about what they cannot restore; gazesite reports that itself, in one line.
        with warnings.catch_warnings(), safe_mode():
            warnings.simplefilter("ignore")
            model = rebuild_keras3(path) if version else keras.models.load_model(source, compile=False, safe_mode=True)
    except ModelError:
        raise
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError...: all mean "cannot read"
        raise unknown_object_error(source, exc) from None
    if not isinstance(model, keras.Model):
        raise ModelError(f"model {path} is a SavedModel without a Keras model inside: save the Keras model itself (model.save)")
    check_model(model, path)
    return LoadedModel(model, kind, version or keras.__version__ if kind != "savedmodel" else keras.__version__, path)


def check_model(model: Any, path: Path) -> None:
    """Raise ModelError unless the model takes (S, S, 1|3) crops, returns 2 values, and TF.js can run its layers."""
    shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if shape is None:
        raise ModelError(f"model {path} has {len(model.input_shape)} inputs: gazesite feeds one face crop")
    problem = input_shape_problem(shape)
    if problem:
        raise ModelError(f"model {path}: {problem}")
    output = model.output_shape
    if isinstance(output, list) or tuple(output[1:]) != (2,):
        raise ModelError(f"model {path} outputs {output}: expected 2 values, the gaze point (x, y) in 0..1 of the screen")
    for layer in model.layers:  # checked in the config already; the loaded model is checked too
        if type(layer).__name__ in PYTHON_ONLY_LAYERS:
            raise python_code_error(path, layer.name, type(layer).__name__)
