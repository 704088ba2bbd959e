"""The build's gather stage: the model (converted and cached if needed) and the page's own files."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from gazesite.errors import GazesiteError
from gazesite.model import TFJS_MODEL_FILE
from gazesite.model.settings import ConvertConfig
from gazesite.paths import assets_dir, default_cache_dir
from gazesite.site.settings import BuildConfig

log = logging.getLogger(__name__)

#: Bumped when the conversion changes, so cached conversions are redone.
CONVERSION_ID = "gazesite-convert-2 tensorflowjs-4.22.0"
#: The first-party page code, copied from assets/ into dist/app/.
APP_DIR = "app"


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
    from gazesite.model.convert import convert  # imports TensorFlow: only when a conversion is needed

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


def gather_app() -> dict[str, Path]:
    """Return the first-party JS and CSS files, keyed by their path in dist/."""
    source = assets_dir() / APP_DIR
    found = {
        f"{APP_DIR}/{p.relative_to(source).as_posix()}": p for p in sorted(source.rglob("*")) if p.is_file() and p.suffix in (".js", ".css")
    }
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
