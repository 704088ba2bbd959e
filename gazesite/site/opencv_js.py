"""Which OpenCV.js a site ships: the lean build committed in assets/opencv/, or npm's full build.

``lean`` (the default) is built by ``make opencv-js`` from pinned, checksummed
inputs with only the functions the page calls; its ``manifest.json`` names the
file and its SHA-256, checked here before the file is copied into a site.
``full`` is the general-purpose ``@techstark/opencv-js`` build from npm.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gazesite.errors import GazesiteError
from gazesite.paths import assets_dir
from gazesite.site.vendor import VendoredFile, subresource_integrity

#: The choices of ``gazesite build --opencv``; the first is the default.
OPENCV_BUILDS = ("lean", "full")
DEFAULT_OPENCV = OPENCV_BUILDS[0]

#: A manifest is a few kB; anything larger is not one.
MAX_MANIFEST_BYTES = 64 * 1024
#: The lean artefact is ~2.7 MB; bound the read so a swapped-in file cannot exhaust memory.
MAX_ARTEFACT_BYTES = 16 * 1024 * 1024
#: The artefact's name as the recipe writes it: a bare file name, version and variant visible.
ARTEFACT_NAME = re.compile(r"^opencv-(\d+\.\d+\.\d+)-([a-z0-9]+(?:-[a-z0-9]+)*)\.js$")
FIX = "restore assets/opencv/ from git, or rebuild it with 'make opencv-js'"


def lean_dir() -> Path:
    """The folder of the committed lean build, its recipe and manifest."""
    return assets_dir() / "opencv"


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The lean build's manifest, size-bounded and shape-checked."""
    path = (folder or lean_dir()) / "manifest.json"
    if not path.is_file():
        raise GazesiteError(f"{path} is missing: {FIX}")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise GazesiteError(f"{path} is larger than {MAX_MANIFEST_BYTES} bytes: not an OpenCV.js build manifest; {FIX}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        artefact = manifest["artefact"]
        name, sha256, size = artefact["file"], artefact["sha256"], artefact["bytes"]
    except (ValueError, KeyError, TypeError):
        raise GazesiteError(f"{path} is not an OpenCV.js build manifest (expected artefact.file, .sha256, .bytes); {FIX}") from None
    if not (isinstance(name, str) and ARTEFACT_NAME.match(name)):
        raise GazesiteError(f"{path}: artefact.file {name!r} is not a file name like opencv-4.12.0-lean.js; {FIX}")
    if not (isinstance(sha256, str) and re.fullmatch(r"[0-9a-f]{64}", sha256)):
        raise GazesiteError(f"{path}: artefact.sha256 {sha256!r} is not a SHA-256 hex digest; {FIX}")
    if not (isinstance(size, int) and 0 < size <= MAX_ARTEFACT_BYTES):
        raise GazesiteError(f"{path}: artefact.bytes {size!r} is not a size of 1 to {MAX_ARTEFACT_BYTES} bytes; {FIX}")
    return manifest


def lean_opencv(folder: Path | None = None) -> VendoredFile:
    """The committed lean OpenCV.js, checked byte for byte against its manifest."""
    import hashlib

    folder = folder or lean_dir()
    manifest = read_manifest(folder)
    artefact = manifest["artefact"]
    path = folder / artefact["file"]
    # Never follow a link out of the folder: the manifest vouches for a file here, nothing else.
    if path.is_symlink() or not path.is_file():
        raise GazesiteError(f"{path} is missing or not a regular file: {FIX}")
    if path.stat().st_size != artefact["bytes"]:
        raise GazesiteError(f"{path} has {path.stat().st_size} bytes, its manifest says {artefact['bytes']}: {FIX}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != artefact["sha256"]:
        raise GazesiteError(f"{path} does not match the SHA-256 in its manifest: {FIX}")
    version, variant = ARTEFACT_NAME.match(artefact["file"]).groups()  # type: ignore[union-attr]
    return VendoredFile("opencv", path, artefact["file"], f"{version}-{variant}", subresource_integrity(data))


def opencv_summary(choice: str, vendored: VendoredFile) -> dict[str, Any]:
    """What build.json records about the OpenCV.js a site ships."""
    return {"build": choice, "file": f"vendor/{vendored.name}", "version": vendored.version}
