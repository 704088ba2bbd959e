"""TF.js layers models: read model.json, its input shape, and exactly the weight files it lists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gazesite.bounded import MAX_MODEL_BYTES, InputError, read_json_object, size_text
from gazesite.errors import ModelError
from gazesite.model import TFJS_MODEL_FILE
from gazesite.track.pipeline import input_shape_problem

#: How model.json may name a weight file: plain names in the folder or its sub-folders, nothing a URL reads differently.
_WEIGHT_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


def read_model_json(model: Path) -> dict[str, Any]:
    """Read a TF.js model directory's model.json within the JSON bounds, or raise ModelError."""
    try:
        return read_json_object(model / TFJS_MODEL_FILE)
    except InputError as exc:
        raise ModelError(f"model {model}/{TFJS_MODEL_FILE} {exc}: expected a TF.js layers model") from None


def gazesite_metadata(model_json: dict[str, Any]) -> dict[str, Any]:
    """Return what gazesite stored in model.json's userDefinedMetadata ({} if nothing usable)."""
    meta = model_json.get("userDefinedMetadata")
    meta = meta.get("gazesite") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def tfjs_input_shape(model_json: dict[str, Any]) -> tuple[Any, ...]:
    """Return a TF.js layers model's input shape (without the batch axis); ValueError if model.json does not say."""
    shape = gazesite_metadata(model_json).get("input_shape")
    if not shape:
        try:
            config = model_json["modelTopology"]["model_config"]["config"]
            layers = config["layers"] if isinstance(config, dict) else config
            first = layers[0]["config"]
            shape = (first.get("batch_input_shape") or first.get("batch_shape"))[1:]
        except (KeyError, IndexError, TypeError, AttributeError):
            shape = None
    if not isinstance(shape, list):
        raise ValueError("its input shape cannot be read from model.json")
    return tuple(shape)


def check_tfjs_model(model: Path) -> dict[str, Path]:
    """Return model.json and the weight files it lists (path in the folder -> file), or raise ModelError.

    Only what model.json lists is published, and only from inside the
    folder: no absolute path, no '..', no symbolic link that leads out.
    """
    model_json = read_model_json(model)
    try:
        paths = [p for group in model_json["weightsManifest"] for p in group["paths"]]
    except (KeyError, TypeError) as exc:
        raise ModelError(f"--model {model}/{TFJS_MODEL_FILE} is not a TF.js layers model (no weightsManifest paths: {exc})") from None
    if model_json.get("format") != "layers-model":
        raise ModelError(f"--model {model}/{TFJS_MODEL_FILE} has format {model_json.get('format')!r}, expected 'layers-model'")
    root = model.resolve()
    files = {name: file_inside(model, root, name) for name in [TFJS_MODEL_FILE, *paths]}
    missing = [name for name, file in files.items() if not file.is_file()]
    if missing:
        raise ModelError(f"--model {model}: weight files {', '.join(missing)} are missing")
    if sum(file.stat().st_size for file in files.values()) > MAX_MODEL_BYTES:  # they are hashed in memory
        raise ModelError(f"--model {model}: model.json and its weight files are larger than {size_text(MAX_MODEL_BYTES)} together")
    try:
        problem = input_shape_problem(tfjs_input_shape(model_json))
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise ModelError(f"--model {model}: {problem}")
    return files


def file_inside(model: Path, root: Path, name: Any) -> Path:
    """Resolve a path model.json names; raise ModelError if it is not a plain relative path that stays in ``root``."""
    plain = isinstance(name, str) and _WEIGHT_PATH.fullmatch(name) and not {".", ".."} & set(name.split("/"))
    if not plain:
        raise ModelError(
            f"--model {model}/{TFJS_MODEL_FILE} lists the weight file {name!r}: expected a relative path inside the model folder "
            "(letters, digits, '_', '-', '.' and '/', no '..')"
        )
    resolved = (root / name).resolve()
    if not resolved.is_relative_to(root):
        raise ModelError(
            f"--model {model}/{TFJS_MODEL_FILE} lists the weight file {name!r}, a symbolic link that leads out of the folder: "
            "expected a file inside the model folder"
        )
    return resolved
