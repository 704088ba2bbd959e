#!/usr/bin/env python3
"""Build the lean OpenCV.js that the page needs, from pinned and checksummed inputs.

Fetches the OpenCV 4.12.0 sources (inside the opencv-python-headless 4.12.0.88
source archive) into a cache folder outside the repository, checks its SHA-256
and the emscripten version, builds OpenCV.js with only the functions in
whitelist.json, and writes the artefact and manifest.json next to this file.
Slow (about 8 minutes on 2 cores): CI checks the committed artefact against
the manifest instead of rebuilding it.

Standard library only, so it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("opencv-js")

HERE = Path(__file__).resolve().parent
WHITELIST = HERE / "whitelist.json"
MANIFEST = HERE / "manifest.json"

OPENCV_VERSION = "4.12.0"
# The same OpenCV as the Python twin (opencv-python-headless 4.12.0.88); its
# source archive on the package index carries the whole OpenCV tree.
SOURCE_PACKAGE = "opencv-python-headless"
SOURCE_PACKAGE_VERSION = "4.12.0.88"
SOURCE_ARCHIVE = f"{SOURCE_PACKAGE}-{SOURCE_PACKAGE_VERSION}.tar.gz"
SOURCE_SHA256 = "cfdc017ddf2e59b6c2f53bc12d74b6b0be7ded4ec59083ea70763921af2b6c09"
SOURCE_BYTES = 95379675
OPENCV_SUBDIR = f"{SOURCE_PACKAGE}-{SOURCE_PACKAGE_VERSION}/opencv"

# Debian bookworm's emscripten (apt-get install emscripten node-acorn).
EMSCRIPTEN_VERSION = "3.1.6"
EMSCRIPTEN_DIR = Path("/usr/share/emscripten")
NODE_PATH = "/usr/share/nodejs"  # where Debian's node-acorn lives; emscripten's JS optimiser needs it
APT_PACKAGES = ("emscripten", "node-acorn")

# Modules the page does not use. objdetect (CascadeClassifier) needs calib3d,
# features2d and flann built: build_js.py turns them on, and without them
# CascadeClassifier silently disappears from the bindings.
CMAKE_OPTIONS = (
    "-DBUILD_opencv_dnn=OFF",
    "-DBUILD_opencv_photo=OFF",
    "-DBUILD_opencv_video=OFF",
    "-DBUILD_TESTS=OFF",
    "-DBUILD_PERF_TESTS=OFF",
    "-DBUILD_EXAMPLES=OFF",
)


@dataclass(frozen=True)
class Variant:
    """One way to build: which SIMD, and which sources are compiled without it."""

    name: str
    simd: bool
    description: str
    # Sources (relative to a module's folder) compiled with CV_DISABLE_OPTIMIZATION: scalar code
    # even in a SIMD build, so their results match the x86 build of opencv-python bit for bit.
    scalar_sources: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def artefact(self) -> str:
        """The file name of this variant's opencv.js: version and variant visible."""
        return f"opencv-{OPENCV_VERSION}-{self.name}.js"


VARIANTS = {
    variant.name: variant
    for variant in (
        Variant("lean", simd=False, description="white-listed functions only, no SIMD"),
        Variant("lean-simd", simd=True, description="white-listed functions only, WebAssembly SIMD everywhere"),
        Variant(
            "lean-simd-scalar-resize",
            simd=True,
            description="white-listed functions only, WebAssembly SIMD except imgproc's resize.cpp",
            # OpenCV's WebAssembly v_round(float) is trunc(x + 0.5), not round-half-to-even
            # like cvRound and SSE, so INTER_AREA's SIMD store rounds some pixels differently.
            scalar_sources={"opencv_imgproc": ("src/resize.cpp",)},
        ),
    )
}
# The variant committed and shipped: bit-identical to Python on every parity frame, as fast as
# lean-simd-scalar-resize (the cascade is scalar code either way) and 167 kB gzip smaller
# (README, "The lean OpenCV.js").
DEFAULT_VARIANT = "lean"


class RecipeError(Exception):
    """A one-line reason the build cannot go on."""


def default_cache() -> Path:
    """The cache folder for the source archive and build trees (never inside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gazesite" / "opencv-build"


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a command, streaming its output; a failure is a one-line RecipeError."""
    log.info("running: %s", " ".join(cmd))
    result = subprocess.run(cmd, cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        raise RecipeError(f"{cmd[0]} {' '.join(cmd[1:3])} ... failed with exit code {result.returncode}")


def tool_output(cmd: list[str]) -> str:
    """First line of a tool's output, or '' when the tool is missing."""
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr).strip() else ""


def ensure_emscripten(install: bool) -> str:
    """Check `emcc --version` is the pinned one (installing Debian's emscripten if emcc is missing); return its first line."""
    if shutil.which("emcc") is None:
        if not install or shutil.which("apt-get") is None or os.geteuid() != 0:
            raise RecipeError(
                f"emcc is missing: install Debian's emscripten {EMSCRIPTEN_VERSION} (apt-get install {' '.join(APT_PACKAGES)})"
            )
        log.info("emcc is missing: installing %s with apt-get", " ".join(APT_PACKAGES))
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    line = tool_output(["emcc", "--version"])
    found = re.search(r"\) (\d+\.\d+\.\d+)", line)
    if found is None or found.group(1) != EMSCRIPTEN_VERSION:
        raise RecipeError(f"emcc --version says {line!r}: this recipe is pinned to emscripten {EMSCRIPTEN_VERSION} (Debian bookworm)")
    if not (EMSCRIPTEN_DIR / "cmake" / "Modules" / "Platform" / "Emscripten.cmake").is_file():
        raise RecipeError(f"{EMSCRIPTEN_DIR} has no CMake toolchain file: is Debian's emscripten package installed?")
    if not (Path(NODE_PATH) / "acorn").is_dir():
        raise RecipeError(f"{NODE_PATH}/acorn is missing: apt-get install node-acorn")
    return line


def ensure_source(cache: Path) -> Path:
    """Download the source archive into the cache if needed, check its SHA-256, and return it."""
    archive = cache / SOURCE_ARCHIVE
    if not archive.is_file():
        log.info("downloading %s==%s (95 MB) into %s", SOURCE_PACKAGE, SOURCE_PACKAGE_VERSION, cache)
        # --no-binary for this one package only: ':all:' would also forbid the wheels of its build dependencies.
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                SOURCE_PACKAGE,
                f"{SOURCE_PACKAGE}=={SOURCE_PACKAGE_VERSION}",
                "--dest",
                str(cache),
            ]
        )
        if not archive.is_file():
            raise RecipeError(f"pip download did not produce {archive}")
    digest = sha256_file(archive)
    if digest != SOURCE_SHA256:
        raise RecipeError(f"{archive} has SHA-256 {digest}, expected {SOURCE_SHA256}: delete it and run again")
    return archive


def extract_source(archive: Path, cache: Path) -> Path:
    """Unpack the OpenCV tree once per archive checksum; return the OpenCV source folder."""
    root = cache / f"src-{SOURCE_SHA256[:12]}"
    stamp = root / ".extracted"
    if not stamp.is_file():
        if root.exists():
            shutil.rmtree(root)
        log.info("extracting %s into %s", OPENCV_SUBDIR, root)
        root.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(OPENCV_SUBDIR + "/")]
            tar.extractall(root, members=members, filter="data")
        stamp.write_text(SOURCE_SHA256 + "\n")
    return root / OPENCV_SUBDIR


def hook_files(variant: Variant) -> dict[str, str]:
    """OpenCV CMake hook files (name -> text) that compile a variant's scalar sources without SIMD."""
    hooks = {}
    for module, sources in sorted(variant.scalar_sources.items()):
        # Runs inside the module's own CMake directory scope, where source properties apply.
        lines = [f"# Generated by build_opencv_js.py for the {variant.name} variant.\n"]
        lines += [
            f'set_property(SOURCE "${{CMAKE_CURRENT_SOURCE_DIR}}/{source}" APPEND PROPERTY COMPILE_DEFINITIONS CV_DISABLE_OPTIMIZATION)\n'
            f'message(STATUS "{module}: {source} is compiled without SIMD (CV_DISABLE_OPTIMIZATION)")\n'
            for source in sources
        ]
        hooks[f"PRE_CREATE_MODULE_LIBRARY_{module}.cmake"] = "".join(lines)
    return hooks


def build_command(variant: Variant, source_dir: str, build_dir: str, hooks_dir: str | None, whitelist: str) -> list[str]:
    """The build_js.py command line (configure only: make runs separately, with our job count)."""
    cmd = ["python3", f"{source_dir}/platforms/js/build_js.py", build_dir, "--build_wasm"]
    if variant.simd:
        cmd.append("--simd")
    cmd += ["--config", whitelist]
    cmd += [f"--cmake_option={option}" for option in CMAKE_OPTIONS]
    if hooks_dir is not None:
        cmd.append(f"--cmake_option=-DOPENCV_CMAKE_HOOKS_DIR={hooks_dir}")
    # Source and build paths would otherwise reach the output through __FILE__ in OpenCV's error messages.
    cmd.append(f"--build_flags=-ffile-prefix-map={source_dir}=opencv-{OPENCV_VERSION} -ffile-prefix-map={build_dir}=build")
    cmd.append("--config_only")
    return cmd


def portable_command(variant: Variant) -> list[str]:
    """The build command with machine-specific folders replaced by placeholders, as the manifest records it."""
    hooks = "<build>/hooks" if variant.scalar_sources else None
    return build_command(variant, "<opencv>", "<build>", hooks, f"assets/opencv/{WHITELIST.name}")


def gzip_size(path: Path) -> int:
    """Size of the file gzipped at level 9 (what a static host sends)."""
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def tool_versions() -> dict[str, str]:
    """Versions of the tools besides emcc that shape the output (recorded, not pinned)."""
    packages = (
        subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "emscripten", "clang-14", "binaryen", "lld-14"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if shutil.which("dpkg-query")
        else ""
    )
    return {
        "debian_packages": " | ".join(sorted(packages.split("\n")[:-1] if packages else [])),
        "cmake": tool_output(["cmake", "--version"]),
        "node": tool_output(["node", "--version"]),
        "python": sys.version.split()[0],
    }


def build(variant: Variant, cache: Path, out_dir: Path, jobs: int, install: bool) -> dict[str, Any]:
    """Fetch, check, build and write the artefact and its manifest; return the manifest."""
    shipped = out_dir == HERE
    if shipped and variant.name != DEFAULT_VARIANT:
        raise RecipeError(f"only the shipped variant ({DEFAULT_VARIANT}) goes into {HERE}: pass --out DIR to build {variant.name}")
    emcc = ensure_emscripten(install)
    cache.mkdir(parents=True, exist_ok=True)
    archive = ensure_source(cache)
    source_dir = extract_source(archive, cache)
    build_dir = cache / f"build-{variant.name}"
    # Always from scratch: a stale CMake cache would make the manifest lie about the command.
    if build_dir.exists():
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    hooks_dir = None
    if variant.scalar_sources:
        hooks_dir = build_dir / "hooks"
        hooks_dir.mkdir()
        for name, text in hook_files(variant).items():
            (hooks_dir / name).write_text(text)
    env = {**os.environ, "EMSCRIPTEN": str(EMSCRIPTEN_DIR), "NODE_PATH": NODE_PATH}
    env.pop("EMSDK", None)  # build_js.py would prefer an emsdk over Debian's emscripten
    cmd = build_command(variant, str(source_dir), str(build_dir), None if hooks_dir is None else str(hooks_dir), str(WHITELIST))
    cmd[0] = sys.executable
    run(cmd, cwd=build_dir, env=env)
    run(["make", f"-j{jobs}", "opencv.js"], cwd=build_dir, env=env)
    built = build_dir / "bin" / "opencv.js"
    if not built.is_file():
        raise RecipeError(f"the build finished without {built}")
    out_dir.mkdir(parents=True, exist_ok=True)
    artefact = out_dir / variant.artefact
    shutil.copyfile(built, artefact)
    manifest: dict[str, Any] = {
        "artefact": {
            "file": variant.artefact,
            "sha256": sha256_file(artefact),
            "bytes": artefact.stat().st_size,
            "gzip_bytes": gzip_size(artefact),
        },
        "variant": {
            "name": variant.name,
            "simd": variant.simd,
            "description": variant.description,
            "scalar_sources": {k: list(v) for k, v in variant.scalar_sources.items()},
        },
        "inputs": {
            "source": {
                "package": f"{SOURCE_PACKAGE}=={SOURCE_PACKAGE_VERSION}",
                "opencv_version": OPENCV_VERSION,
                "file": SOURCE_ARCHIVE,
                "sha256": SOURCE_SHA256,
                "bytes": SOURCE_BYTES,
                "fetch": f"pip download --no-deps --no-binary {SOURCE_PACKAGE} {SOURCE_PACKAGE}=={SOURCE_PACKAGE_VERSION}",
                "subdir": OPENCV_SUBDIR,
            },
            "emscripten": {
                "version": EMSCRIPTEN_VERSION,
                "emcc_version": emcc,
                "dir": str(EMSCRIPTEN_DIR),
                "apt_packages": list(APT_PACKAGES),
            },
            "whitelist": {"file": WHITELIST.name, "sha256": sha256_file(WHITELIST)},
            "cmake_hooks": {name: hashlib.sha256(text.encode()).hexdigest() for name, text in hook_files(variant).items()},
            "tools": tool_versions(),
        },
        "command": {
            "env": {"EMSCRIPTEN": str(EMSCRIPTEN_DIR), "NODE_PATH": NODE_PATH},
            "configure": portable_command(variant),
            "make": ["make", "-j<jobs>", "opencv.js"],
            "output": "<build>/bin/opencv.js",
            "recipe": f"python3 assets/opencv/{Path(__file__).name} --variant {variant.name}",
        },
    }
    manifest_path = out_dir / (MANIFEST.name if shipped else f"manifest-{variant.name}.json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    log.info(
        "wrote %s: %d bytes, %d gzip, sha256 %s",
        artefact,
        manifest["artefact"]["bytes"],
        manifest["artefact"]["gzip_bytes"],
        manifest["artefact"]["sha256"],
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: build one variant (the shipped one by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variant", choices=sorted(VARIANTS), default=DEFAULT_VARIANT, help=f"what to build (default {DEFAULT_VARIANT}, the shipped one)"
    )
    parser.add_argument("--cache", type=Path, default=default_cache(), help="source archive and build trees (default %(default)s)")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE,
        help="where the artefact goes (default: next to this script, with manifest.json; elsewhere: manifest-VARIANT.json)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs (default %(default)s)")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install emscripten when emcc is missing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        build(VARIANTS[args.variant], args.cache.expanduser().resolve(), args.out.resolve(), max(1, args.jobs), not args.no_install)
    except RecipeError as error:
        print(f"opencv-js: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
