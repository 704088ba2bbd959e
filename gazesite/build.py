"""``gazesite build``: validate, gather, render, then write ``dist/`` in one swap.

The stages read top to bottom. Nothing touches the output folder until every
input has been gathered and the page rendered; the new site is written into
a temporary folder beside it and swapped in, so a failed build leaves the
previous ``dist/`` exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gazesite
from gazesite.bounded import MAX_MODEL_BYTES, InputError, read_json_object, size_text
from gazesite.calibration.dots import MARGIN as DOT_MARGIN
from gazesite.calibration.dots import calibration_layout, check_layout
from gazesite.calibration.settings import maths_settings
from gazesite.config import BuildConfig, ConvertConfig, canonical_target
from gazesite.errors import GazesiteError, ModelError
from gazesite.model import TFJS_MODEL_FILE
from gazesite.model.dataset import FORMAT_NAME as DATASET_FORMAT_NAME
from gazesite.model.dataset import FORMAT_VERSION as DATASET_FORMAT_VERSION
from gazesite.opencv_js import opencv_summary
from gazesite.paths import assets_dir
from gazesite.pipeline import cascade_path, input_shape_problem, pipeline_constants, spec_for_input_shape
from gazesite.probe import FrameCheck, probe_target
from gazesite.render import content_security_policy, origin_of, render_page
from gazesite.staging import BUILD_MANIFEST, staged_directory
from gazesite.vendor import VendoredFile, gather_vendor

log = logging.getLogger(__name__)

#: Bumped when the conversion changes, so cached conversions are redone.
CONVERSION_ID = "gazesite-convert-2 tensorflowjs-4.22.0"
#: The first-party page code, copied from assets/ into dist/app/.
APP_DIR = "app"
SAMPLE_FORMAT = {"name": "gazesite-samples", "version": 1}
#: How the page's calibration paces each point: wait for the eyes to settle
#: on a new dot, then collect frames; a few extra points only validate the fit.
#: A check error above poorError (screen fractions) makes the result screen
#: warn and recommend a redo: 0.1 is where the synthetic people the tests use
#: stay after a good calibration on any renderer (README, "Calibration").
CALIBRATION_TIMING = {"settleMs": 800, "collectMs": 900, "validationPoints": 4, "recordSeconds": 30, "poorError": 0.1}
#: How model.json may name a weight file: plain names in the folder or its sub-folders, nothing a URL reads differently.
_WEIGHT_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


@dataclass
class SiteFiles:
    """Everything the site will contain, gathered before anything is written."""

    copies: dict[str, Path] = field(default_factory=dict)  # dist-relative path -> source file
    texts: dict[str, str] = field(default_factory=dict)  # dist-relative path -> content


def default_cache_dir() -> Path:
    """Return where converted models are cached between builds."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gazesite"


def build(config: BuildConfig) -> Path:
    """Build the static site described by ``config`` and return its folder."""
    # The host as the browser and the CSP name it (punycode), in every place the target appears.
    config = replace(config.validate(), target=canonical_target(config.target))
    frame_check = probe_target(config.target) if config.probe_target else FrameCheck(None, "not checked")
    if frame_check.frameable is False:
        log.warning("%s refuses to be framed: %s; the page will say so", config.target, frame_check.reason)
    frame_origins = [origin_of(url) for url in (config.target, *frame_check.redirects)]
    if frame_check.redirects:
        log.info(
            "%s redirects to %s (%s); the page may frame %s",
            config.target, frame_check.final_url, " -> ".join((config.target, *frame_check.redirects)), " ".join(dict.fromkeys(frame_origins)),
        )

    files = SiteFiles()
    model_dir = gather_model(config)
    model_files = check_tfjs_model(model_dir)  # exactly what model.json lists, all inside the folder
    model_json = read_model_json(model_dir)
    for name, source in model_files.items():
        files.copies[f"model/{name}"] = source
    files.copies[f"cascade/{cascade_path().name}"] = cascade_path()
    vendor = gather_vendor(opencv=config.opencv)
    for item in vendor:
        files.copies[f"vendor/{item.name}"] = item.source
    app_files = gather_app()
    files.copies.update(app_files)

    page_config = page_settings(config, model_files, model_json, vendor, frame_check)
    files.texts["index.html"] = render_page(
        {
            "config": page_config,
            "title": f"gazesite: {config.target}",
            "target": config.target,
            "csp": content_security_policy(frame_origins),
            "scripts": [{"src": f"vendor/{v.name}", "integrity": v.integrity} for v in vendor if v.name.endswith(".js")],
            "app_script": {"src": f"{APP_DIR}/main.js", "integrity": integrity_of(app_files[f"{APP_DIR}/main.js"])},
            # The modules main.js imports get their integrity through modulepreload.
            "app_modules": [
                {"href": name, "integrity": integrity_of(path)}
                for name, path in app_files.items()
                if name.endswith(".js") and name != f"{APP_DIR}/main.js"
            ],
            "stylesheet": {"href": f"{APP_DIR}/gazesite.css", "integrity": integrity_of(app_files[f"{APP_DIR}/gazesite.css"])},
        }
    )
    files.texts[BUILD_MANIFEST] = json.dumps(manifest(config, files, frame_check, vendor), indent=2, sort_keys=True) + "\n"

    write_site(files, config.out)
    log.info("built %s for %s (%d files)", config.out, config.target, len(files.copies) + len(files.texts))
    return config.out


def gather_model(config: BuildConfig) -> Path:
    """Return a folder with model.json and shards: the given TF.js model, or a (cached) conversion."""
    from gazesite.model.formats import detect_format

    model = config.model
    if detect_format(model) == "tfjs":
        return model
    cached = (config.cache_dir or default_cache_dir()) / "models" / conversion_key(model, config.quantize)
    if (cached / TFJS_MODEL_FILE).is_file():
        log.info("reusing the cached conversion %s", cached)
        return cached
    from gazesite.convert import convert  # imports TensorFlow: only when a conversion is needed

    convert(ConvertConfig(model=model, out=cached, quantize=config.quantize))
    return cached


def conversion_key(model: Path, quantize: str) -> str:
    """Name a conversion by the model's bytes (a file, or every file of a folder) and the quantization."""
    digest = hashlib.sha256()
    for part in (CONVERSION_ID, quantize):
        digest.update(part.encode() + b"\0")
    files = [model] if model.is_file() else sorted(p for p in model.rglob("*") if p.is_file())
    for path in files:
        if path != model:  # a folder's files are named too, so a rename changes the key
            digest.update(path.relative_to(model).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:  # in chunks: a model may be larger than memory allows twice
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
    return digest.hexdigest()[:24]


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


def gather_app() -> dict[str, Path]:
    """Return the first-party JS and CSS files, keyed by their path in dist/."""
    source = assets_dir() / APP_DIR
    found = {f"{APP_DIR}/{p.relative_to(source).as_posix()}": p for p in sorted(source.rglob("*")) if p.is_file() and p.suffix in (".js", ".css")}
    for required in ("main.js", "gazesite.css"):
        if f"{APP_DIR}/{required}" not in found:
            raise GazesiteError(f"assets/{APP_DIR}/{required} is missing from the gazesite installation: reinstall gazesite")
    return found


def model_hash(model_files: dict[str, Path]) -> str:
    """Return a short content hash of a TF.js model (model.json and its shards)."""
    digest = hashlib.sha256()
    for name in sorted(model_files):
        digest.update(name.encode() + b"\0" + model_files[name].read_bytes())
    return digest.hexdigest()[:16]


def page_settings(config: BuildConfig, model_files: dict[str, Path], model_json: dict[str, Any], vendor: list[VendoredFile], frame_check: FrameCheck) -> dict[str, Any]:
    """Return the settings the page's JavaScript reads, the single source for both sides."""
    meta = gazesite_metadata(model_json)
    by_key = {v.key: f"vendor/{v.name}" for v in vendor}
    return {
        "version": gazesite.__version__,
        "target": config.target,
        "targetOrigin": origin_of(config.target),
        "frameable": frame_check.frameable,
        "frameReason": frame_check.reason,
        "backend": config.backend,
        "smoothing": config.smoothing,
        "calibration": {
            **CALIBRATION_TIMING,
            "points": config.calibration_points,
            "layout": calibration_layout(config.calibration_points),
            "checkLayout": check_layout(CALIBRATION_TIMING["validationPoints"], calibration_layout(config.calibration_points)),
            "margin": DOT_MARGIN,
            "maths": maths_settings(),
        },
        "pipeline": pipeline_constants(spec_for_input_shape(tfjs_input_shape(model_json))),
        "model": {
            "url": "model/model.json",
            "quantization": meta.get("quantization", config.quantize),
            "inputShape": list(tfjs_input_shape(model_json)),
            # Names the exact weights, so a calibration stored for one model is never applied to another.
            "hash": model_hash(model_files),
        },
        "cascade": {"url": f"cascade/{cascade_path().name}", "file": cascade_path().name},
        "wasmPaths": {
            "tfjs-backend-wasm.wasm": by_key["tfjs-backend-wasm.wasm"],
            "tfjs-backend-wasm-simd.wasm": by_key["tfjs-backend-wasm-simd.wasm"],
            # setWasmPaths insists on this key, but the page turns multithreading
            # off (no cross-origin isolation), so the binary is never fetched.
            "tfjs-backend-wasm-threaded-simd.wasm": by_key["tfjs-backend-wasm-simd.wasm"],
        },
        "sampleFormat": SAMPLE_FORMAT,
        # The page writes calibration and recording crops in the same format `gazesite train --data` reads.
        "datasetFormat": {"name": DATASET_FORMAT_NAME, "version": DATASET_FORMAT_VERSION},
    }


def integrity_of(path: Path) -> str:
    """Return the SRI hash of a file."""
    from gazesite.vendor import subresource_integrity

    return subresource_integrity(path.read_bytes())


def manifest(config: BuildConfig, files: SiteFiles, frame_check: FrameCheck, vendor: list[VendoredFile]) -> dict[str, Any]:
    """Describe the build: inputs and every file's size and hash."""
    entries = {}
    for name, source in files.copies.items():
        data = source.read_bytes()
        entries[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    for name, text in files.texts.items():
        data = text.encode()
        entries[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {
        "gazesite": gazesite.__version__,
        "target": config.target,
        "redirects": list(frame_check.redirects),
        "final_url": frame_check.final_url,
        "frameable": frame_check.frameable,
        "quantize": config.quantize,
        "backend": config.backend,
        "opencv": opencv_summary(config.opencv, next(v for v in vendor if v.key == "opencv")),
        "files": dict(sorted(entries.items())),
    }


def write_site(files: SiteFiles, out: Path) -> None:
    """Write every file into a temporary folder beside ``out``, then swap it in."""
    with staged_directory(out) as staging:
        for name, source in files.copies.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        for name, text in files.texts.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
