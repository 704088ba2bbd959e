"""Hostile and broken inputs to gazesite report: each ends in one line naming the input, and writes nothing."""

from __future__ import annotations

import json
import os
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gazesite.commands import cli
from gazesite.samples import schema
from tests.helpers import assert_one_line_error, gazesite
from tests.helpers import report_sessions as rs


def assert_refused(tmp_path: Path, args: list[str | Path], *fragments: str) -> str:
    """Run the report in-process and check for a one-line error that names the fragments, and no output folder."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", *map(str, args), "--out", str(out)])
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")] == []  # no staging folder left
    return lines[0]


def good() -> dict:
    return rs.document(rs.SESSION_A, rs.a_then_b())


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:  # sparse: the size is checked before a byte is read
        handle.truncate(schema.MAX_FILE_BYTES + 1)
    assert_refused(tmp_path, [path], "huge.json", "larger than 64 MiB")


def test_deep_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"samples": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_refused(tmp_path, [path], "deep.json", "nested deeper than 100 levels")


def test_too_many_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MAX_SAMPLES_PER_SESSION", 10)
    assert_refused(tmp_path, [rs.write(tmp_path / "a.json", good())], "a.json", "52 samples, more than 10")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda d: d.update(format="something-else"), ("'format' must be 'gazesite-samples'",)),
        (lambda d: d.update(version=3), ("'version' must be one of 1, 2",)),
        (lambda d: d.update(version=True), ("'version'",)),
        (lambda d: d.update(samples={"t": 1}), ("'samples' must be an array",)),
        (lambda d: d.update(session="<script>alert(1)</script>"), ("'session' must be 16-64 characters",)),
        (lambda d: d.update(mode="magic"), ("'mode' must be one of frame, snapshot, same-origin",)),
        (lambda d: d.update(calibration={"checkError": -1}), ("calibration.checkError",)),
        (lambda d: d.update(pages=[{"id": "p", "width": -1, "height": 10, "image": None}]), ("pages[0].width",)),
        (lambda d: d["samples"][3].update(t="12"), ("sample 4: 't' must be a finite number",)),
        (lambda d: d["samples"][3].update(x=True), ("sample 4: 'x'",)),
        (lambda d: d["samples"][3].update(y=1e308), ("sample 4: 'y'",)),
        (lambda d: d["samples"][3].update(t=-5), ("sample 4: 't'",)),
        (lambda d: d["samples"][3].update(raw=[1, 2, 3]), ("sample 4: 'raw' must be null or [x, y]",)),
        (lambda d: d["samples"][3].update(doc="here"), ("sample 4: 'doc'",)),
        (
            lambda d: d["samples"][3].update(page="x" * 5000),
            ("sample 4: 'page' must be null or a string of 1-2048 characters without control characters",),
        ),
        (lambda d: d["samples"][3].update(element="a\u0000b"), ("sample 4: 'element'",)),
        (lambda d: d["samples"][3].pop("viewport"), ("sample 4: 'viewport'",)),
        (lambda d: d["samples"].__setitem__(3, [1, 2]), ("sample 4: expected an object, got a JSON array",)),
        (lambda d: d.update(participant="has space"), ("'participant' must be null or 1-128 characters of A-Z",)),
        (lambda d: d.update(participant="p" * 129), ("'participant' must be null or 1-128 characters",)),
        (lambda d: d.update(participant=12345), ("'participant' must be null or",)),
        (lambda d: d.update(pageStart=-1), ("'pageStart' must be a finite number from 0 to 8.64e+07",)),
        (lambda d: d.update(pageStart="5"), ("'pageStart' must be a finite number",)),
        (lambda d: d.update(pageEnd=True), ("'pageEnd' must be a finite number",)),
        (lambda d: d.update(pageStart=5000, pageEnd=4000), ("'pageEnd' (4000 ms) must not be before 'pageStart' (5000 ms)",)),
    ],
)
def test_malformed_sample_documents(tmp_path: Path, change, fragments: tuple[str, ...]) -> None:
    doc = good()
    change(doc)
    assert_refused(tmp_path, [rs.write(tmp_path / "a.json", doc)], "a.json", *fragments)


def test_nan_and_infinity_tokens(tmp_path: Path) -> None:
    text = json.dumps(good()).replace('"x": ', '"x": NaN, "_x": ', 1)
    (tmp_path / "nan.json").write_text(text)
    assert_refused(tmp_path, [tmp_path / "nan.json"], "nan.json", "holds NaN, which is not JSON")


def test_not_json_at_all(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"format": "gazesite-samples", ')
    assert_refused(tmp_path, [tmp_path / "broken.json"], "broken.json", "not valid JSON")
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert_refused(tmp_path, [tmp_path / "binary.csv"], "binary.csv", "UTF-8 samples CSV")


def test_a_folder_or_a_fifo_is_not_a_sample_file(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    assert_refused(tmp_path, [tmp_path / "folder"], "folder", "not a regular file")
    os.mkfifo(tmp_path / "pipe")
    assert_refused(tmp_path, [tmp_path / "pipe"], "pipe", "not a regular file")  # would block forever if opened
    assert_refused(tmp_path, [tmp_path / "missing.json"], "missing.json", "cannot be read")


def csv_text() -> str:
    return rs.to_csv(good())


@pytest.mark.parametrize(
    ("mangle", "fragments"),
    [
        (lambda text: "time,x,y\n1,2,3\n", ("neither a samples JSON document nor a samples CSV",)),
        (lambda text: text.replace("\n", '\n"unclosed', 3), ("malformed CSV",)),
        (lambda text: text.replace(",calibrated,", ",calibrated,1,", 1), ("line 2: 20 cells, the header has 19",)),
        (lambda text: text.replace("\n1500.0,", "\nnan,", 1), ("line 2: t must be a finite number",)),
        (lambda text: text.replace("\n1500.0,", "\ninf,", 1), ("line 2: t must be a finite number",)),
        (lambda text: text.replace("\n1500.0,", "\n1e999,", 1), ("line 2: t",)),
        (lambda text: text.replace("\n1500.0,", "\nabc,", 1), ("line 2: t", "'abc'")),
        (
            lambda text: text.replace(",snapshot-1280,", ',"' + "p" * 200_000 + '",', 1),
            ("malformed CSV", "field larger than field limit"),
        ),
        (lambda text: text.replace(",snapshot-1280,", ",snapshot-1280\u0007,", 1), ("line 2: page",)),
    ],
)
def test_malformed_csv(tmp_path: Path, mangle, fragments: tuple[str, ...]) -> None:
    (tmp_path / "a.csv").write_text(mangle(csv_text()))
    assert_refused(tmp_path, [tmp_path / "a.csv"], "a.csv", *fragments)


def test_half_a_doc_point_in_csv(tmp_path: Path) -> None:
    lines = csv_text().splitlines()
    cells = lines[1].split(",")
    cells[16] = ""  # doc_y empty while doc_x is set
    (tmp_path / "a.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    assert_refused(tmp_path, [tmp_path / "a.csv"], "a.csv", "line 2: doc_y must be a finite number")


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("not json", ("not valid JSON",)),
        ("[" * 100_000 + "]" * 100_000, ("nested deeper than 100 levels",)),
        ('[{"name": "a", "rect": [0, 0, 1, 1]}]', ('expected a JSON object {"aois": [...]}',)),
        ('{"aois": [], "extra": 1}', ('expected a JSON object {"aois": [...]}',)),
        ('{"aois": []}', ("'aois' must list 1 to 500 areas",)),
        ('{"aois": [{"name": "a", "rect": [0, 0, 1, 1], "colour": "red"}]}', ("aois[0]: unknown key 'colour'",)),
        (
            '{"aois": [{"name": "a", "rect": [0, 0, 1, 1], "element": "main"}]}',
            ("aois[0] (a): give exactly one of rect",),
        ),
        ('{"aois": [{"name": "a"}]}', ("give exactly one of rect",)),
        ('{"aois": [{"name": "a", "rect": [0, 0, -5, 10]}]}', ("aois[0].rect (a)", "width and height above 0")),
        ('{"aois": [{"name": "a", "rect": [0, 0, "1", 10]}]}', ("aois[0].rect (a)",)),
        ('{"aois": [{"name": "a", "rect": [0, 0, 1e309, 10]}]}', ("holds a number too large for a float",)),
        ('{"aois": [{"name": "", "rect": [0, 0, 1, 1]}]}', ("aois[0].name: expected a printable string",)),
        ('{"aois": [{"name": "a", "element": 5}]}', ("aois[0].element",)),
        ('{"aois": [{"name": "a", "page": ["x"], "element": "main"}]}', ("aois[0].page",)),
        (
            '{"aois": [{"name": "a", "rect": [0,0,1,1]}, {"name": "a", "rect": [0,0,2,2]}]}',
            ("the name 'a' is used twice",),
        ),
        (
            json.dumps({"aois": [{"name": f"a{i}", "rect": [0, 0, 1, 1]} for i in range(501)]}),
            ("'aois' must list 1 to 500 areas, not 501",),
        ),
        ('{"aois": [{"name": "a", "rect": [0, 0, 1, 1]}]}' + " " * (1024 * 1024), ("larger than 1 MiB",)),
    ],
)
def test_bad_aoi_files(tmp_path: Path, content: str, fragments: tuple[str, ...]) -> None:
    (tmp_path / "aoi.json").write_text(content)
    sample = rs.write(tmp_path / "a.json", good())
    assert_refused(tmp_path, [sample, "--aoi", tmp_path / "aoi.json"], "--aoi", "aoi.json", *fragments)


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds one tiny compressed row: a pixel bomb if anyone decodes it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("image", "fragments"),
    [
        ("../secret.png", ("expected a path relative to the built site, without '..'",)),
        ("/etc/passwd", ("expected a path relative to the built site",)),
        ("link/secret.png", ("leads out of --pages",)),
        ("missing.png", ("not found in --pages",)),
        ("notes.txt", ("not a readable PNG/JPEG/WEBP image",)),
        ("bomb.png", ("10000 x 10000 px, more than 62,910,720 pixels",)),
    ],
)
def test_a_bad_claimed_page_image_draws_the_page_blank(
    tmp_path: Path, image: str, fragments: tuple[str, ...], caplog: pytest.LogCaptureFixture
) -> None:
    """A page image a session claims (anyone can post one): a bad claim never reads outside --pages, never stops the report."""
    site = tmp_path / "dist"
    site.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(png_header(10, 10))
    (site / "link").symlink_to(outside)
    (site / "notes.txt").write_text("not an image")
    (site / "bomb.png").write_bytes(png_header(10_000, 10_000))
    claimant = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b(), image=image))
    honest = rs.write(tmp_path / "b.json", rs.document(rs.SESSION_B, rs.a_then_b(), image=image, seed=1))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(claimant), str(honest), "--pages", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    warnings = [record.getMessage() for record in caplog.records if "drawn blank" in record.getMessage()]
    assert len(warnings) == 1 and "page 'snapshot-1280'" in warnings[0], caplog.text
    assert all(fragment in warnings[0] for fragment in fragments), warnings[0]
    manifest = json.loads((out / "report.json").read_text())
    assert [page["background"] for page in manifest["pages"]] == ["blank"] and len(manifest["participants"]) == 2


def test_options_are_checked_together(tmp_path: Path) -> None:
    occupied = tmp_path / "mine"
    occupied.mkdir()
    (occupied / "thesis.tex").write_text("keep me")
    sample = rs.write(tmp_path / "a.json", good())
    result = CliRunner().invoke(cli, ["report", str(sample), "--out", str(occupied), "--min-face", "2", "--pages", str(tmp_path / "nope")])
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert "\n" not in message
    assert "holds no report.json" in message and "--min-face 2" in message and "--pages" in message
    assert (occupied / "thesis.tex").read_text() == "keep me"
    for bad in (["--dispersion", "0"], ["--min-fixation", "105"], ["--min-fixation", "10"], ["--max-error", "-1"]):
        assert_refused(tmp_path, [sample, *bad], bad[0])


def test_hostile_strings_are_escaped_in_html_and_csv(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b(), page='<img src=x onerror="alert(1)">')
    for sample in doc["samples"]:
        sample["element"] = '=HYPERLINK("http://evil")'
    sample_file = rs.write(tmp_path / "a.json", doc)
    (tmp_path / "aoi.json").write_text(json.dumps({"aois": [{"name": "=cmd|' /C calc'!A0", "element": '=HYPERLINK("http://evil")'}]}))
    result = CliRunner().invoke(cli, ["report", str(sample_file), "--aoi", str(tmp_path / "aoi.json"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=" in html
    assert "'=cmd" in (tmp_path / "out" / "aoi.csv").read_text()
    assert "'=HYPERLINK" in (tmp_path / "out" / "fixations.csv").read_text()


def test_db_without_collection_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gazesite.collect.storage", None)  # importing it now fails
    db = tmp_path / "study.db"
    db.write_bytes(b"")
    assert_refused(tmp_path, ["--db", db], "--db", "study.db", "no collection storage")


def test_db_that_is_not_a_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3
    import types

    def iter_sessions(path: Path) -> Iterator[dict]:
        raise sqlite3.DatabaseError("file is not a database")

    storage = types.ModuleType("gazesite.collect.storage")
    storage.iter_sessions = iter_sessions  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gazesite.collect", types.ModuleType("gazesite.collect"))
    monkeypatch.setitem(sys.modules, "gazesite.collect.storage", storage)
    db = tmp_path / "notes.txt"
    db.write_text("hello")
    assert_refused(tmp_path, ["--db", db], "--db", "notes.txt", "file is not a database")
    assert_refused(tmp_path, ["--db", tmp_path / "absent.db"], "absent.db", "no such database file")


def test_the_real_command_line(tmp_path: Path) -> None:
    """The same contract as users meet it: a subprocess, one line on stderr, nothing written."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = gazesite("report", path, "--out", tmp_path / "out")
    assert_one_line_error(result, "deep.json", "nested deeper")
    assert not (tmp_path / "out").exists()
    result = gazesite("report", "--out", tmp_path / "out")
    assert_one_line_error(result, "no input")
