"""The samples format in one place: one validator, one v1 to v2 upgrade, one public reader (JSON and CSV, version 1 or 2).

Every door (``gazesite collect``, ``gazesite report``, ``gazesite.samples.io.read_samples``) checks a sample with
the same rules and refuses a bad one with the same message; a version 1 row becomes the same version 2 row wherever
it is read.
"""

from __future__ import annotations

import ast
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from gazesite.collect.protocol import BatchError, validate_batch
from gazesite.collect.storage import Storage, export_sessions, read_sessions
from gazesite.report.documents import session_from_document
from gazesite.report.model import VIEWPORT_PAGE, ReportError
from gazesite.report.read import read_sample_file
from gazesite.samples import schema
from gazesite.samples.io import from_csv, from_json, read_samples
from gazesite.samples.schema import CSV_V1, CSV_V2, MAX_FILE_BYTES
from gazesite.samples.upgrade import upgrade_sample
from gazesite.samples.validate import SamplesError
from tests.helpers.collect import make_batch
from tests.helpers.paths import ROOT_DIR as ROOT

V1_SAMPLE = {
    "t": 12.5,
    "x": 100.2,
    "y": 200.0,
    "viewport": [1280, 800],
    "scroll": [0, 0],
    "dpr": 1,
    "face": [10, 20, 110, 110],
    "source": "model",
}
V2_SAMPLE = {
    **V1_SAMPLE,
    "scroll": [0, 1500.0],
    "raw": [98.1, 203.4],
    "doc": [100.2, 1700.0],
    "page": '/a b,c"d.html?x=1',
    "element": "main > p:nth-of-type(2)",
}
SESSION = "abcDEF0123456789_-xy"


def v1_document(samples: list[dict]) -> dict:
    return {
        "format": "gazesite-samples",
        "version": 1,
        "target": "https://example.org/",
        "created": "2025-01-01T00:00:00Z",
        "started": "2025-01-01T00:00:00Z",
        "samples": samples,
    }


def v2_document(samples: list[dict]) -> dict:
    return {
        **v1_document(samples),
        "version": 2,
        "mode": "same-origin",
        "session": SESSION,
        "study": "pilot",
        "screen": [1920, 1080],
        "calibration": {"method": "eyes", "checkError": 0.05, "rawError": 0.2, "points": 9},
        "pages": [{"id": V2_SAMPLE["page"], "width": 1280, "height": 4000, "image": None}],
    }


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def csv_row(sample: dict, version: int) -> str:
    """A CSV row as the page writes it (RFC 4180 quoting where needed)."""
    cells = [
        sample["t"],
        sample["x"],
        sample["y"],
        *sample["viewport"],
        *sample["face"],
        *sample["scroll"],
        sample["dpr"],
        sample["source"],
    ]
    if version == 2:
        cells += [*sample["raw"], *(sample["doc"] or ["", ""]), sample["page"] or "", sample["element"] or ""]
    return ",".join(quote(c) for c in cells)


def quote(value: object) -> str:
    """One CSV cell, quoted per RFC 4180 when it holds a comma, quote, CR or LF."""
    text = str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


# ---------------------------------------------------------------- one validator


#: Rows each door must refuse, and the field the message names.
BAD_ROWS: dict[str, tuple[dict[str, Any], str]] = {
    "t before the session": ({"t": -5}, "'t' must be a finite number from 0 to 8.64e+07 ms"),
    "t beyond a day": ({"t": 1e11}, "'t' must be a finite number from 0 to 8.64e+07 ms"),
    "x a thousand screens away": ({"x": 5e9}, "'x' must be a finite number from -1e+06 to 1e+06"),
    "a boolean y": ({"y": True}, "'y' must be a finite number"),
    "a negative viewport": ({"viewport": [-5, 800]}, "'viewport' must be [width, height], two finite numbers from 0 to 1e+06"),
    "a raw of three": ({"raw": [1, 2, 3]}, "'raw' must be null or [x, y]"),
    "a terminal escape in an element": ({"element": "div\x1b[2J"}, "'element' must be null or a string of 1-2048 characters"),
    "a lone surrogate in a page": ({"page": "\ud800"}, "'page' must be null or a string of 1-2048 characters"),
    "an empty page": ({"page": ""}, "'page' must be null or a string of 1-2048 characters"),
    "a face of three": ({"face": [1, 2, 3]}, "'face' must be [x, y, width, height]"),
    "a zero dpr": ({"dpr": 0}, "'dpr' must be a finite number above 0"),
    "a long source": ({"source": "s" * 33}, "'source' must be a string of at most 32 characters"),
    "an object in a later version's field": ({"note": {"a": 1}}, "'note' must be null, a boolean, a number"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_one_bad_row_gets_one_message_at_every_door(tmp_path: Path, case: str) -> None:
    change, expected = BAD_ROWS[case]
    row = {**V2_SAMPLE, **change}
    with pytest.raises(BatchError) as door:
        validate_batch(json.loads(json.dumps(make_batch(samples=[row]))))
    message = str(door.value)
    assert message.startswith(f"sample 1: {expected}"), message
    with pytest.raises(ReportError) as report:
        session_from_document(v2_document([row]), "a.json", "a.json")
    assert report.value.message == f"a.json: {message}"
    path = write(tmp_path, "a.json", json.dumps(v2_document([row])))
    with pytest.raises(SamplesError) as reader:
        read_samples(path)
    assert reader.value.message == f"{path}: {message}"
    with pytest.raises(ReportError) as report_file:
        read_sample_file(path)
    assert report_file.value.message == reader.value.message


@pytest.mark.parametrize(
    ("change", "column", "fragment"),
    [
        ({"t": -5}, "t", "line 2: t must be a finite number from 0 to 8.64e+07 ms, not '-5'"),
        ({"x": 5e9}, "x", "line 2: x must be a finite number from -1e+06 to 1e+06, not '5000000000.0'"),
        ({"element": "div\x1b[2J"}, "element", "line 2: element must be null or a string of 1-2048 characters"),
    ],
)
def test_a_bad_csv_row_gets_one_message_from_the_report_and_the_reader(tmp_path: Path, change: dict, column: str, fragment: str) -> None:
    path = write(tmp_path, "a.csv", ",".join(CSV_V2) + "\n" + csv_row({**V2_SAMPLE, **change}, 2) + "\n")
    with pytest.raises(SamplesError) as reader:
        read_samples(path)
    assert reader.value.message.startswith(f"{path}: {fragment}"), reader.value.message
    with pytest.raises(ReportError) as report:
        read_sample_file(path)
    assert report.value.message == reader.value.message


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"element": "a\x07b"}, "sample 1: 'element' must be null or a string of 1-2048 characters without control characters"),
        ({"page": "tab\there"}, "sample 1: 'page'"),
        ({"x": 1e7}, "sample 1: 'x' must be a finite number from -1e+06 to 1e+06"),
        ({"doc": [0, -2e6]}, "sample 1: 'doc' must be null or [x, y]"),
        ({"scroll": [0, 1e9]}, "sample 1: 'scroll'"),
        ({"t": -0.5}, "sample 1: 't' must be a finite number from 0 to 8.64e+07 ms"),
        ({"t": 8.64e7 + 1}, "sample 1: 't'"),
    ],
)
def test_the_public_reader_refuses_what_it_used_to_pass(tmp_path: Path, change: dict, fragment: str) -> None:
    """Control characters in a text field, px and times out of bounds: the reader once let them through."""
    path = write(tmp_path, "s.json", json.dumps(v2_document([{**V2_SAMPLE, **change}])))
    with pytest.raises(SamplesError) as info:
        read_samples(path)
    assert fragment in info.value.message and str(path) in info.value.message


def test_document_fields_are_as_strict_as_the_door(tmp_path: Path) -> None:
    for bad, fragment in (
        ({"study": "has space"}, "'study' must be null or 1-64 characters"),
        ({"study": "pilot.1"}, "'study' must be null or 1-64 characters"),
        ({"target": "https://e.org/\x00"}, "'target' must be null or a string of 1-2048 characters"),
        ({"calibration": {"method": "eyes", "checkError": 0.1, "rawError": 0.2, "points": 2.5}}, "'calibration.points' must be null or"),
        ({"pages": [{"id": "/a", "width": 10, "height": 10, "image": None, "extra": 1}]}, "'pages[0]' must be an object of"),
        ({"pages": [{"id": "/a", "width": 5e9, "height": 10}]}, "'pages[0].width' must be null or a finite number from 0 to 1e+06"),
        ({"screen": [-1, 10]}, "'screen' must be null or [width, height]"),
    ):
        path = write(tmp_path, "bad.json", json.dumps({**v2_document([V2_SAMPLE]), **bad}))
        with pytest.raises(SamplesError) as info:
            read_samples(path)
        assert fragment in info.value.message, info.value.message
        with pytest.raises(ReportError) as report:
            read_sample_file(path)
        assert report.value.message == info.value.message


# ---------------------------------------------------------------- one upgrade


def test_a_v1_row_becomes_the_same_v2_row_everywhere(tmp_path: Path) -> None:
    expected = {**V1_SAMPLE, "raw": [V1_SAMPLE["x"], V1_SAMPLE["y"]], "doc": None, "page": None, "element": None}
    assert upgrade_sample(V1_SAMPLE) == expected
    assert "raw" not in V1_SAMPLE  # the row read is left as it was
    assert upgrade_sample({**V1_SAMPLE, "raw": None})["raw"] == expected["raw"]  # null: "the smoothed point"
    # The public reader, JSON and CSV.
    assert read_samples(write(tmp_path, "v1.json", json.dumps(v1_document([V1_SAMPLE]))))["samples"] == [expected]
    assert read_samples(write(tmp_path, "v1.csv", ",".join(CSV_V1) + "\n" + csv_row(V1_SAMPLE, 1) + "\n"))["samples"] == [expected]
    # The collect server's stored session.
    storage = Storage(tmp_path / "gaze.db")
    storage.store([validate_batch(make_batch(samples=[V1_SAMPLE]))])
    storage.close()
    (stored,) = read_sessions(tmp_path / "gaze.db")
    assert stored["samples"] == [expected]
    # The report's columns.
    session = session_from_document(v1_document([V1_SAMPLE]), "a.json", "a.json")
    samples = session.samples
    assert samples.raw.tolist() == [expected["raw"]] and samples.xy.tolist() == [expected["raw"]]
    assert all(math.isnan(v) for v in samples.doc[0]) and samples.page.tolist() == [VIEWPORT_PAGE] and samples.element.tolist() == [None]


def test_what_the_door_stores_the_public_reader_reads(tmp_path: Path) -> None:
    """A batch of bare samples (only what the report needs) and one of a later version's fields: exported, read back."""
    bare = {"t": 0, "x": 0, "y": 0, "viewport": [1280, 800], "scroll": [0, 0]}
    later = {**V2_SAMPLE, "t": 50, "pupil": 3.2, "blink": False}
    storage = Storage(tmp_path / "gaze.db")
    storage.store([validate_batch(make_batch(session=SESSION, samples=[bare, later]))])
    storage.close()
    export_sessions(tmp_path / "gaze.db", tmp_path / "export")
    read = read_samples(tmp_path / "export" / f"{SESSION}.json")
    assert read["session"] == SESSION and read["study"] == "pilot" and read["mode"] == "frame"
    assert read["samples"] == read_sessions(tmp_path / "gaze.db")[0]["samples"]
    assert read["samples"][0] == {**bare, "raw": [0, 0], "doc": None, "page": None, "element": None}


# ---------------------------------------------------------------- the public reader


def test_v1_json_upgrades(tmp_path: Path) -> None:
    read = read_samples(write(tmp_path, "s.json", json.dumps(v1_document([V1_SAMPLE]))))
    assert read["version"] == 2 and read["upgraded_from"] == 1 and read["mode"] == "frame" and read["pages"] == []
    assert read["session"] is None and read["participant"] is None and read["target"] == "https://example.org/"


def test_v2_json_keeps_every_field(tmp_path: Path) -> None:
    read = read_samples(write(tmp_path, "s.json", json.dumps(v2_document([V2_SAMPLE]))))
    assert "upgraded_from" not in read
    assert read["samples"] == [V2_SAMPLE]
    assert read["mode"] == "same-origin" and read["study"] == "pilot" and read["calibration"]["points"] == 9
    assert from_json(json.dumps(v2_document([V2_SAMPLE])), "text") == read


def test_csv_of_both_versions(tmp_path: Path) -> None:
    v1 = read_samples(write(tmp_path, "v1.csv", ",".join(CSV_V1) + "\n" + csv_row(V1_SAMPLE, 1) + "\n"))
    assert v1["upgraded_from"] == 1 and v1["samples"][0]["raw"] == [100.2, 200] and v1["samples"][0]["doc"] is None
    off_document = {**V2_SAMPLE, "doc": None, "element": None}
    text = ",".join(CSV_V2) + "\n" + csv_row(V2_SAMPLE, 2) + "\n" + csv_row(off_document, 2) + "\n"
    v2 = read_samples(write(tmp_path, "v2.csv", text))
    assert v2["samples"] == [V2_SAMPLE, off_document]  # the quoted page id (comma, quote, space) survives
    assert v2["mode"] == "same-origin" and [p["id"] for p in v2["pages"]] == [V2_SAMPLE["page"]]
    assert from_csv(text.encode(), "text") == v2
    # A UTF-8 byte order mark (a spreadsheet's) is not part of the header.
    assert read_samples(write(tmp_path, "bom.csv", "\ufeff" + text)) == v2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (json.dumps({"format": "other", "version": 2, "samples": []}), "'format' must be 'gazesite-samples'"),
        (json.dumps({"format": "gazesite-collect-export", "sessions": {}}), "the index of a 'gazesite collect export'"),
        (json.dumps(v1_document([]) | {"version": 3}), "'version' must be one of 1, 2"),
        (json.dumps(v1_document([]) | {"version": True}), "'version' must be one of 1, 2"),
        (json.dumps([1, 2]), "expected a gazesite-samples JSON object, got a JSON array"),
        (json.dumps(v1_document([V1_SAMPLE | {"x": "1"}])), "sample 1: 'x' must be a finite number"),
        (json.dumps(v2_document([V2_SAMPLE | {"doc": [1]}])), "sample 1: 'doc' must be null or [x, y]"),
        (json.dumps(v2_document([V2_SAMPLE | {"page": "x" * 5000}])), "sample 1: 'page' must be null or a string of 1-2048"),
        (json.dumps(v2_document([V2_SAMPLE, [1]])), "sample 2: expected an object, got a JSON array"),  # type: ignore[list-item]  # a sample that is not an object, on purpose
        (json.dumps(v2_document([V2_SAMPLE]) | {"mode": "iframe"}), "'mode' must be one of frame, snapshot, same-origin"),
        (json.dumps(v2_document([V2_SAMPLE]) | {"session": "short"}), "'session' must be 16-64 characters"),
        (json.dumps(v2_document([V2_SAMPLE]) | {"pages": "none"}), "'pages' must be an array of at most 1000"),
        (json.dumps(v2_document([V2_SAMPLE]) | {"samples": {"t": 1}}), "'samples' must be an array"),
        ('{"format": "gazesite-samples", "samples": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper"),
        ('{"format": "gazesite-samples", "version": 2, "x": NaN}', "holds NaN, which is not JSON"),
        ('{"format": "gazesite-samples", "version": 2, "x": 1e400}', "too large for a float"),
        (",".join(CSV_V1) + "\n1,2,3\n", "line 2: 3 cells, the header has 13"),
        (",".join(CSV_V2) + "\n" + csv_row(V2_SAMPLE, 2).replace("98.1", "nan") + "\n", "line 2: raw_x must be a finite number"),
        (",".join(CSV_V2) + "\n" + csv_row(V2_SAMPLE, 2).replace("98.1", "9_8") + "\n", "line 2: raw_x must be a finite number"),
        (",".join(CSV_V2) + "\n" + csv_row(V2_SAMPLE, 2).replace("98.1", " 98.1") + "\n", "line 2: raw_x must be a finite number"),
        ("t,x\n1,2\n", "neither a samples JSON document nor a samples CSV"),
        (",".join(CSV_V1) + "\n" + '"' + "a" * 200_000 + '"\n', "malformed CSV"),
        (b"\xff\xfe\x00binary", "neither a samples JSON document nor a UTF-8 samples CSV"),
        (b'{"format": "gazesite-samples", "version": 2, "target": "\xff"}', "UTF-8"),
    ],
)
def test_broken_sample_files_are_one_line_errors(tmp_path: Path, content: str | bytes, problem: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(SamplesError) as info:
        read_samples(path)
    assert problem in info.value.message and "\n" not in info.value.message and info.value.message.startswith(f"{path}: ")


def test_a_sample_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SamplesError, match="larger than 64 MiB"):
        read_samples(path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(SamplesError, match="is not a regular file"):
        read_samples(tmp_path / "folder")


def test_too_many_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MAX_SAMPLES_PER_SESSION", 2)
    with pytest.raises(SamplesError, match="3 samples, more than 2"):
        read_samples(write(tmp_path, "s.json", json.dumps(v2_document([V2_SAMPLE] * 3))))
    with pytest.raises(SamplesError, match="more than 2 samples"):
        read_samples(write(tmp_path, "s.csv", ",".join(CSV_V2) + "\n" + (csv_row(V2_SAMPLE, 2) + "\n") * 3))


def test_study_fields_are_read_and_checked(tmp_path: Path) -> None:
    study = {"participant": "5f8e2a7c9b1d3e4f6a7b8c9d", "pageStart": 31000.5, "pageEnd": 95000}
    read = read_samples(write(tmp_path, "s.json", json.dumps({**v2_document([V2_SAMPLE]), **study})))
    assert {key: read[key] for key in study} == study
    bare = read_samples(write(tmp_path, "bare.json", json.dumps(v2_document([V2_SAMPLE]))))
    assert (bare["participant"], bare["pageStart"], bare["pageEnd"]) == (None, None, None)
    for bad, fragment in (
        ({"participant": "a b"}, "'participant' must be null or 1-128 characters"),
        ({"pageStart": -1}, "'pageStart' must be a finite number from 0 to 8.64e+07 ms"),
        ({"pageStart": 10, "pageEnd": 5}, "'pageEnd' (5 ms) must not be before 'pageStart' (10 ms)"),
    ):
        with pytest.raises(SamplesError) as info:
            read_samples(write(tmp_path, "bad.json", json.dumps({**v2_document([V2_SAMPLE]), **bad})))
        assert fragment in info.value.message


# ---------------------------------------------------------------- the package's place


def test_the_package_imports_only_the_standard_library_numpy_and_gazesite_basics() -> None:
    allowed = {"gazesite.bounded", "gazesite.errors", "gazesite.samples", "numpy"}
    offenders: dict[str, list[str]] = {}
    for path in (ROOT / "gazesite" / "samples").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["gazesite.samples"]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and not any(name == a or name.startswith(a + ".") for a in allowed):
                    offenders.setdefault(path.name, []).append(name)
    assert not offenders, offenders


def test_the_old_reader_is_gone() -> None:
    assert not (ROOT / "gazesite" / "study" / "samples.py").exists()
