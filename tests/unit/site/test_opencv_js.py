"""Choosing the OpenCV.js a site ships: the committed lean build is checked against its manifest before it is copied."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gazesite.errors import ConfigError, GazesiteError
from gazesite.site.opencv_js import (
    DEFAULT_OPENCV,
    MAX_MANIFEST_BYTES,
    OPENCV_BUILDS,
    lean_dir,
    lean_opencv,
    read_manifest,
)
from gazesite.site.settings import BuildConfig
from gazesite.site.vendor import gather_vendor, subresource_integrity


@pytest.fixture
def lean_copy(tmp_path: Path) -> Path:
    """A copy of the committed lean build's manifest and artefact, to tamper with."""
    folder = tmp_path / "opencv"
    folder.mkdir()
    manifest = read_manifest()
    shutil.copyfile(lean_dir() / "manifest.json", folder / "manifest.json")
    shutil.copyfile(lean_dir() / manifest["artefact"]["file"], folder / manifest["artefact"]["file"])
    return folder


def rewrite_manifest(folder: Path, **artefact: object) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["artefact"].update(artefact)
    path.write_text(json.dumps(manifest))


def test_lean_is_the_default_and_full_stays_selectable() -> None:
    assert DEFAULT_OPENCV == "lean" and set(OPENCV_BUILDS) == {"lean", "full"}
    assert BuildConfig(target="https://example.org/", model=Path(".")).opencv == "lean"


def test_lean_file_is_the_manifest_one_with_its_integrity() -> None:
    vendored = lean_opencv()
    manifest = read_manifest()
    assert vendored.name == manifest["artefact"]["file"] and vendored.source == lean_dir() / vendored.name
    assert vendored.version.startswith("4.12.0-lean")
    assert vendored.integrity == subresource_integrity(vendored.source.read_bytes())


def test_gather_vendor_ships_exactly_one_opencv_of_the_chosen_build() -> None:
    lean = [v for v in gather_vendor(opencv="lean") if v.key == "opencv"]
    full = [v for v in gather_vendor(opencv="full") if v.key == "opencv"]
    assert len(lean) == 1 and len(full) == 1
    assert lean[0].source.parent == lean_dir()
    assert "node_modules" in full[0].source.parts and full[0].name == "opencv-4.12.0.js"
    # The lean build is a fraction of the full one.
    assert lean[0].source.stat().st_size * 3 < full[0].source.stat().st_size


def test_a_tampered_artefact_is_refused(lean_copy: Path) -> None:
    artefact = lean_copy / read_manifest(lean_copy)["artefact"]["file"]
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 1  # same size, one bit off
    artefact.write_bytes(bytes(data))
    with pytest.raises(GazesiteError, match="SHA-256") as raised:
        lean_opencv(lean_copy)
    assert "\n" not in str(raised.value) and "make opencv-js" in str(raised.value)


def test_an_artefact_of_another_size_is_refused_before_it_is_read(lean_copy: Path) -> None:
    artefact = lean_copy / read_manifest(lean_copy)["artefact"]["file"]
    with artefact.open("ab") as handle:
        handle.write(b"\n")
    with pytest.raises(GazesiteError, match="bytes, its manifest says"):
        lean_opencv(lean_copy)


def test_a_symlinked_artefact_is_refused(lean_copy: Path, tmp_path: Path) -> None:
    name = read_manifest(lean_copy)["artefact"]["file"]
    outside = tmp_path / "elsewhere.js"
    shutil.move(lean_copy / name, outside)
    (lean_copy / name).symlink_to(outside)
    with pytest.raises(GazesiteError, match="not a regular file"):
        lean_opencv(lean_copy)


@pytest.mark.parametrize("name", ["../opencv-4.12.0-lean.js", "/etc/passwd", "opencv.js", "opencv-4.12.0-lean.js/..", 7])
def test_a_manifest_naming_another_file_is_refused(lean_copy: Path, name: object) -> None:
    rewrite_manifest(lean_copy, file=name)
    with pytest.raises(GazesiteError, match=r"artefact\.file"):
        lean_opencv(lean_copy)


@pytest.mark.parametrize(("field", "value"), [("sha256", "abc"), ("bytes", -1), ("bytes", 10**12), ("bytes", "12")])
def test_a_manifest_with_bad_fields_is_refused(lean_copy: Path, field: str, value: object) -> None:
    rewrite_manifest(lean_copy, **{field: value})
    with pytest.raises(GazesiteError, match=f"artefact.{field}"):
        lean_opencv(lean_copy)


def test_an_oversized_or_broken_manifest_is_refused(lean_copy: Path) -> None:
    (lean_copy / "manifest.json").write_text(" " * (MAX_MANIFEST_BYTES + 1))
    with pytest.raises(GazesiteError, match="larger than"):
        lean_opencv(lean_copy)
    (lean_copy / "manifest.json").write_text("[1, 2")
    with pytest.raises(GazesiteError, match=r"not an OpenCV\.js build manifest"):
        lean_opencv(lean_copy)
    (lean_copy / "manifest.json").unlink()
    with pytest.raises(GazesiteError, match="is missing"):
        lean_opencv(lean_copy)


def test_an_unknown_opencv_choice_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--opencv 'tiny': expected one of lean, full"):
        BuildConfig(target="https://example.org/", model=Path("."), opencv="tiny").validate()


def test_cli_refuses_an_unknown_opencv_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gazesite",
            "build",
            "--target",
            "https://example.org/",
            "--out",
            str(out),
            "--no-probe",
            "--opencv",
            "tiny",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert any("--opencv 'tiny'" in line for line in errors) and "Traceback" not in result.stderr
    assert not out.exists()
