"""The committed lean OpenCV.js is the file its manifest describes, built from the inputs the recipe pins.

The build takes minutes, so nothing here rebuilds it: these tests check the
committed artefact against the manifest, the manifest against the recipe,
and that the recipe refuses inputs other than the pinned ones.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.paths import ROOT_DIR as ROOT

OPENCV = ROOT / "assets" / "opencv"
MANIFEST = json.loads((OPENCV / "manifest.json").read_text())
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def load_recipe() -> ModuleType:
    """Import the recipe script without leaving bytecode in assets/ (the wheel ships that folder)."""
    spec = importlib.util.spec_from_file_location("build_opencv_js", OPENCV / "build_opencv_js.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is created
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


recipe = load_recipe()


def artefact_path() -> Path:
    return OPENCV / MANIFEST["artefact"]["file"]


def embedded_wasm() -> bytes:
    """The WebAssembly module that the single-file build carries as a base64 data URI."""
    text = artefact_path().read_text()
    found = re.search(r"data:application/octet-stream;base64,([A-Za-z0-9+/=]+)", text)
    assert found, "no embedded wasm in the artefact"
    return base64.b64decode(found.group(1))


def test_artefact_matches_the_manifest() -> None:
    path = artefact_path()
    data = path.read_bytes()
    assert len(data) == MANIFEST["artefact"]["bytes"]
    assert hashlib.sha256(data).hexdigest() == MANIFEST["artefact"]["sha256"]
    assert 0 < MANIFEST["artefact"]["gzip_bytes"] < len(data)


def test_artefact_name_shows_version_and_variant() -> None:
    variant = MANIFEST["variant"]["name"]
    assert MANIFEST["artefact"]["file"] == f"opencv-{recipe.OPENCV_VERSION}-{variant}.js"
    assert variant == recipe.DEFAULT_VARIANT
    assert MANIFEST["variant"]["simd"] == recipe.VARIANTS[variant].simd


def test_manifest_records_the_pinned_inputs() -> None:
    inputs = MANIFEST["inputs"]
    source = inputs["source"]
    assert SHA256.match(source["sha256"]) and source["sha256"] == recipe.SOURCE_SHA256
    assert source["file"] == recipe.SOURCE_ARCHIVE and source["bytes"] == recipe.SOURCE_BYTES
    assert source["package"] == "opencv-python-headless==4.12.0.88"
    assert source["opencv_version"] == "4.12.0"
    emscripten = inputs["emscripten"]
    assert emscripten["version"] == recipe.EMSCRIPTEN_VERSION
    assert f") {recipe.EMSCRIPTEN_VERSION}" in emscripten["emcc_version"]
    whitelist = OPENCV / inputs["whitelist"]["file"]
    assert hashlib.sha256(whitelist.read_bytes()).hexdigest() == inputs["whitelist"]["sha256"]
    expected_hooks = {
        name: hashlib.sha256(text.encode()).hexdigest()
        for name, text in recipe.hook_files(recipe.VARIANTS[MANIFEST["variant"]["name"]]).items()
    }
    assert inputs["cmake_hooks"] == expected_hooks


def test_manifest_command_is_the_one_the_recipe_runs() -> None:
    variant = recipe.VARIANTS[MANIFEST["variant"]["name"]]
    command = MANIFEST["command"]
    assert command["configure"] == recipe.portable_command(variant)
    assert command["env"] == {"EMSCRIPTEN": str(recipe.EMSCRIPTEN_DIR), "NODE_PATH": recipe.NODE_PATH}
    assert "--build_wasm" in command["configure"]
    assert ("--simd" in command["configure"]) == variant.simd
    assert "--config" in command["configure"]


#: Loads the artefact in Node as CommonJS and reports what the module binds (Node comes with 'make setup').
NODE_PROBE = """
const loaded = require(process.argv[1]);
Promise.resolve(loaded).then((cv) => {
  const kinds = {};
  for (const name of JSON.parse(process.argv[2])) kinds[name] = typeof cv[name];
  const methods = {};
  for (const [cls, names] of Object.entries(JSON.parse(process.argv[3]))) {
    methods[cls] = names.filter((m) => typeof cv[cls]?.prototype?.[m] === 'function');
  }
  console.log(JSON.stringify({ promise: loaded instanceof Promise, kinds, methods }));
});
"""


def test_artefact_binds_the_white_list_and_nothing_else() -> None:
    assert embedded_wasm()[:4] == b"\0asm"
    node = shutil.which("node")
    assert node, "node is missing: 'make setup' needs it for npm too"
    whitelist = json.loads((OPENCV / "whitelist.json").read_text())
    functions = [name for module in whitelist.values() for name in module["whitelist"].get("", [])]
    # createCLAHE becomes the CLAHE constructor (new cv.CLAHE(clip, size)).
    functions = [("CLAHE" if name == "createCLAHE" else name) for name in functions]
    classes = {cls: [m for m in names if m != cls] for module in whitelist.values() for cls, names in module["whitelist"].items() if cls}
    unused = ["GaussianBlur", "HOGDescriptor", "findContours", "QRCodeDetector", "Canny", "dnn_Net"]
    result = subprocess.run(
        [node, "-e", NODE_PROBE, str(artefact_path()), json.dumps([*functions, *classes, *unused]), json.dumps(classes)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    probe = json.loads(result.stdout)
    # The factory hands out a Promise of the module (the page's loader handles it).
    assert probe["promise"] is True
    assert {name: probe["kinds"][name] for name in [*functions, *classes]} == dict.fromkeys([*functions, *classes], "function")
    # Methods of the white-listed classes are bound; CLAHE's are inherited from the Algorithm wrapper.
    assert probe["methods"]["CascadeClassifier"] == ["load", "empty", "detectMultiScale"]
    assert "apply" in probe["methods"]["CLAHE"]
    # Functions of the full build the page never calls are gone.
    assert {name: probe["kinds"][name] for name in unused} == dict.fromkeys(unused, "undefined")


def test_recipe_refuses_an_archive_with_another_checksum(tmp_path: Path) -> None:
    (tmp_path / recipe.SOURCE_ARCHIVE).write_bytes(b"not the OpenCV sources")
    with pytest.raises(recipe.RecipeError) as raised:
        recipe.ensure_source(tmp_path)
    message = str(raised.value)
    assert "\n" not in message and recipe.SOURCE_SHA256 in message and "SHA-256" in message


def test_recipe_refuses_another_emscripten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emcc = tmp_path / "emcc"
    emcc.write_text("#!/bin/sh\necho 'emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.70 (abc)'\n")
    emcc.chmod(emcc.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(recipe.RecipeError) as raised:
        recipe.ensure_emscripten(install=False)
    message = str(raised.value)
    assert "\n" not in message and "3.1.70" in message and recipe.EMSCRIPTEN_VERSION in message


def test_recipe_keeps_its_inputs_out_of_the_repository(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert recipe.default_cache() == tmp_path / "gazesite" / "opencv-build"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert recipe.default_cache() == Path.home() / ".cache" / "gazesite" / "opencv-build"
    assert not any(OPENCV.glob("*.tar.gz"))
