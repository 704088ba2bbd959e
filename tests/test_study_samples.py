"""Sample exports of version 1 and 2, JSON and CSV, read into the version 2 shape; hostile files end in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gazesite.study.samples import CSV_V1, CSV_V2, MAX_SAMPLES_BYTES, SamplesError, read_samples

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
        "session": "abcDEF0123456789_-xy",
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


def test_v1_json_upgrades(tmp_path: Path) -> None:
    read = read_samples(write(tmp_path, "s.json", json.dumps(v1_document([V1_SAMPLE]))))
    assert read["version"] == 2 and read["upgraded_from"] == 1 and read["mode"] == "frame" and read["pages"] == []
    sample = read["samples"][0]
    assert (
        sample["raw"] == [V1_SAMPLE["x"], V1_SAMPLE["y"]] and sample["doc"] is None and sample["page"] is None and sample["element"] is None
    )


def test_v2_json_keeps_every_field(tmp_path: Path) -> None:
    read = read_samples(write(tmp_path, "s.json", json.dumps(v2_document([V2_SAMPLE]))))
    assert "upgraded_from" not in read
    assert read["samples"] == [V2_SAMPLE]
    assert read["mode"] == "same-origin" and read["study"] == "pilot" and read["calibration"]["points"] == 9


def test_csv_of_both_versions(tmp_path: Path) -> None:
    v1 = read_samples(write(tmp_path, "v1.csv", ",".join(CSV_V1) + "\n" + csv_row(V1_SAMPLE, 1) + "\n"))
    assert v1["upgraded_from"] == 1 and v1["samples"][0]["raw"] == [100.2, 200] and v1["samples"][0]["doc"] is None
    off_document = {**V2_SAMPLE, "doc": None, "element": None}
    text = ",".join(CSV_V2) + "\n" + csv_row(V2_SAMPLE, 2) + "\n" + csv_row(off_document, 2) + "\n"
    v2 = read_samples(write(tmp_path, "v2.csv", text))
    assert v2["samples"] == [V2_SAMPLE, off_document]  # the quoted page id (comma, quote, space) survives
    assert v2["mode"] == "same-origin" and [p["id"] for p in v2["pages"]] == [V2_SAMPLE["page"]]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (json.dumps({"format": "other", "version": 2, "samples": []}), "not a gazesite samples export"),
        (json.dumps(v1_document([]) | {"version": 3}), "version 3 is not supported"),
        (json.dumps(v1_document([]) | {"version": True}), "version True is not supported"),
        (json.dumps(v1_document([V1_SAMPLE | {"x": "1"}])), "sample 0: x must be a finite number"),
        (json.dumps(v1_document([V1_SAMPLE | {"source": "made-up"}])), "source 'made-up'"),
        (json.dumps(v2_document([V2_SAMPLE | {"doc": [1]}])), "doc must be a list of 2 numbers or null"),
        (json.dumps(v2_document([V2_SAMPLE | {"page": "x" * 5000}])), '"page" must be a string of at most'),
        (json.dumps(v2_document([V2_SAMPLE]) | {"mode": "iframe"}), '"mode"'),
        (json.dumps(v2_document([V2_SAMPLE]) | {"session": "short"}), '"session"'),
        (json.dumps(v2_document([V2_SAMPLE]) | {"pages": "none"}), '"pages" must be a list'),
        ('{"format": "gazesite-samples", "samples": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper"),
        (",".join(CSV_V1) + "\n1,2,3\n", "line 2 has 3 cells"),
        (
            ",".join(CSV_V2) + "\n" + csv_row(V2_SAMPLE, 2).replace("98.1", "nan") + "\n",
            "raw_x: expected a finite number",
        ),
        ("t,x\n1,2\n", "CSV header is not gazesite's"),
        (",".join(CSV_V1) + "\n" + '"' + "a" * 200_000 + '"\n', "not readable CSV"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
    ],
)
def test_broken_sample_files_are_one_line_errors(tmp_path: Path, content: str | bytes, problem: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(SamplesError) as info:
        read_samples(path)
    assert problem in info.value.message and "\n" not in info.value.message and str(path) in info.value.message


def test_a_sample_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SAMPLES_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SamplesError, match="larger than 64 MiB"):
        read_samples(path)


def test_study_fields_are_read_and_checked(tmp_path: Path) -> None:
    study = {"participant": "5f8e2a7c9b1d3e4f6a7b8c9d", "pageStart": 31000.5, "pageEnd": 95000}
    read = read_samples(write(tmp_path, "s.json", json.dumps({**v2_document([V2_SAMPLE]), **study})))
    assert {key: read[key] for key in study} == study
    bare = read_samples(write(tmp_path, "bare.json", json.dumps(v2_document([V2_SAMPLE]))))
    assert (bare["participant"], bare["pageStart"], bare["pageEnd"]) == (None, None, None)
    for bad, fragment in (
        ({"participant": "a b"}, '"participant" must be null or 1-128 characters'),
        ({"pageStart": -1}, '"pageStart" must be null or ms from 0'),
        ({"pageStart": 10, "pageEnd": 5}, '"pageEnd" must not be before "pageStart"'),
    ):
        with pytest.raises(SamplesError, match=fragment):
            read_samples(write(tmp_path, "bad.json", json.dumps({**v2_document([V2_SAMPLE]), **bad})))
