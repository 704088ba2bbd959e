"""gazesite bench detectors: the shipped detector against cheaper ones, counted on the same frames."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import pytest

from gazesite.bench.detectors import REAL, format_detectors, frame_sets, run_detectors
from gazesite.track.pipeline import cascade_path, detect_faces, pick_face
from tests.helpers import assert_one_line_error, gazesite

FRAMES = 4
#: A cascade every OpenCV install has, standing in for one a user passes with --cascade.
OTHER = cascade_path().parent / "haarcascade_frontalface_alt.xml"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("detectors") / "detectors.json"
    figures = run_detectors(FRAMES, (OTHER,), out)
    assert json.loads(out.read_text()) == figures
    return figures


def test_the_shipped_row_is_the_pipeline_on_the_same_frames(report: dict) -> None:
    sets = frame_sets(FRAMES)
    assert report["frames"] == {name: len(grays) for name, grays in sets.items()}
    assert report["frames"][REAL] == FRAMES * 3  # each real face at three sizes
    shipped = report["rows"][0]
    found = {name: sum(pick_face(detect_faces(gray)) is not None for gray in grays) for name, grays in sets.items()}
    assert shipped["found"] == found
    assert sum(found.values()) > 0.8 * sum(report["frames"].values())
    assert shipped["same_boxes_as_shipped"] == sum(found.values())


def test_a_proposing_cascade_never_loses_a_face_the_shipped_one_finds(report: dict) -> None:
    rows = {row["name"]: row for row in report["rows"]}
    shipped = report["rows"][0]
    proposed = rows[f"{OTHER.name} proposes, shipped confirms near it"]
    for name, count in shipped["found"].items():
        assert proposed["found"][name] >= count, name
    assert OTHER.name in rows
    assert all(row["median_ms_one_thread"] > 0 for row in report["rows"])
    # Threads are restored for whatever runs next in this process.
    assert cv2.getNumThreads() > 1 or os.cpu_count() == 1


def test_the_table_has_a_line_per_detector(report: dict) -> None:
    table = format_detectors(report).splitlines()
    assert len(table) == 3 + len(report["rows"])
    assert table[3].rstrip().endswith("1.00x")
    for row, line in zip(report["rows"], table[3:], strict=True):
        assert line.startswith(row["name"])


def make_fifo(folder: Path) -> Path:
    os.mkfifo(folder / "fifo.xml")
    return folder / "fifo.xml"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.xml", "expected a regular file"),
        (lambda d: d, "expected a regular file"),
        (lambda d: (d / "text.xml").write_text("not a cascade") and d / "text.xml", "cannot read it as a cascade"),
        (lambda d: (d / "link.xml").symlink_to(OTHER) or d / "link.xml", "not a link"),
        (lambda d: (d / "big.xml").write_bytes(b"<" * (17 * 2**20)) and d / "big.xml", "at most"),
        (make_fifo, "expected a regular file"),
    ],
    ids=["missing", "folder", "not-a-cascade", "symlink", "too-big", "fifo"],
)
def test_a_bad_cascade_is_a_one_line_error(tmp_path: Path, make, expected: str) -> None:
    path = make(tmp_path)
    result = gazesite("bench", "detectors", "--frames", "1", "--cascade", path, "--json", tmp_path / "out.json")
    assert_one_line_error(result, str(path), expected)
    assert not (tmp_path / "out.json").exists()


def test_a_cascade_without_detectors_is_a_usage_error(tmp_path: Path) -> None:
    result = gazesite("bench", "speed", "--cascade", OTHER, "--json", tmp_path / "out.json")
    assert result.returncode == 2 and "No such option '--cascade'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.json").exists()
