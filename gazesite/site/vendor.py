"""The front-end libraries a built site needs, copied from assets/node_modules.

Versions come from the installed packages' own package.json, are checked
against the exact pins in assets/package.json, and end up in the file names
(``vendor/tf-4.22.0.es2017.min.js``), so a cached file never outlives its version.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from gazesite.errors import GazesiteError
from gazesite.paths import assets_dir

FIX = "run 'make setup' (it runs 'npm ci' in assets/)"
#: An installed wheel carries only the shipped files, in the npm packages' layout (see setup.py).
WHEEL_FIX = "reinstall gazesite"


@dataclass(frozen=True)
class VendorSpec:
    """One file to copy out of an npm package; ``{v}`` in ``name`` is its version."""

    key: str
    package: str
    source: str
    name: str


#: What the page loads. The keys are how templates and JS refer to the files.
VENDOR_FILES = (
    # The ES2017 bundles: the same library without the ES5 transpilation every browser with
    # WebAssembly no longer needs (tf.js: 0.27 MB gzip instead of 0.37 MB).
    VendorSpec("tfjs", "@tensorflow/tfjs", "dist/tf.es2017.min.js", "tf-{v}.es2017.min.js"),
    VendorSpec("tfjs_wasm", "@tensorflow/tfjs-backend-wasm", "dist/tf-backend-wasm.es2017.min.js", "tf-backend-wasm-{v}.es2017.min.js"),
    # Only the single-threaded binaries: threads need cross-origin isolation,
    # which an arbitrary cross-origin iframe rules out.
    VendorSpec("tfjs-backend-wasm.wasm", "@tensorflow/tfjs-backend-wasm", "dist/tfjs-backend-wasm.wasm", "tfjs-backend-wasm-{v}.wasm"),
    VendorSpec(
        "tfjs-backend-wasm-simd.wasm",
        "@tensorflow/tfjs-backend-wasm",
        "dist/tfjs-backend-wasm-simd.wasm",
        "tfjs-backend-wasm-simd-{v}.wasm",
    ),
    # npm's full OpenCV.js, shipped with `--opencv full`; the default lean build comes from
    # assets/opencv/ instead (gazesite.site.opencv_js).
    VendorSpec("opencv", "@techstark/opencv-js", "dist/opencv.js", "opencv-{v}.js"),
    VendorSpec("heatmap", "heatmap.js", "build/heatmap.min.js", "heatmap-{v}.min.js"),
    VendorSpec("stats", "stats.js", "build/stats.min.js", "stats-{v}.min.js"),
)


@dataclass(frozen=True)
class VendoredFile:
    """A library file ready to be written into dist/vendor/."""

    key: str
    source: Path
    name: str
    version: str
    integrity: str  # Subresource Integrity value, "sha384-..."


def subresource_integrity(data: bytes) -> str:
    """Return the SRI hash of some bytes."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def packages_dir() -> Path:
    """Where the npm packages are: assets/node_modules in a checkout, assets/vendor in an installed wheel."""
    node_modules = assets_dir() / "node_modules"
    wheel_copy = assets_dir() / "vendor"
    return wheel_copy if wheel_copy.is_dir() and not node_modules.is_dir() else node_modules


def gather_vendor(node_modules: Path | None = None, opencv: str = "lean") -> list[VendoredFile]:
    """Find every vendored file, check its version against the pins, hash it.

    ``opencv``: "lean" ships the committed lean build (gazesite.site.opencv_js), "full" npm's build.
    """
    node_modules = node_modules or packages_dir()
    fix = WHEEL_FIX if node_modules.name == "vendor" else FIX
    pins = json.loads((assets_dir() / "package.json").read_text())["dependencies"]
    files = []
    for spec in VENDOR_FILES:
        if spec.key == "opencv" and opencv == "lean":
            from gazesite.site.opencv_js import lean_opencv  # it imports this module: import here, not at the top

            files.append(lean_opencv())
            continue
        package_json = node_modules / spec.package / "package.json"
        source = node_modules / spec.package / spec.source
        if not package_json.is_file() or not source.is_file():
            raise GazesiteError(f"vendored file {spec.package}/{spec.source} is missing from {node_modules}: {fix}")
        version = json.loads(package_json.read_text())["version"]
        if version != pins[spec.package]:
            raise GazesiteError(f"{spec.package} {version} is installed but assets/package.json pins {pins[spec.package]}: {fix}")
        # OpenCV.js versions read "4.12.0-release.1"; the file name keeps the OpenCV version.
        short = version.split("-release")[0]
        files.append(VendoredFile(spec.key, source, spec.name.format(v=short), version, subresource_integrity(source.read_bytes())))
    return files
