"""Read gazesite sample exports (JSON or CSV, version 1 or 2) into version-2-shaped dicts.

Version 1 files upgrade as the contract says: ``raw`` = [x, y], ``doc``,
``page`` and ``element`` null (and, at the top level, mode "frame", the only
mode version 1 knew). A CSV carries only the samples: the top-level fields it
cannot know are null, and its mode is inferred from the page ids. Every file
is untrusted: bounded in bytes, nesting and field lengths, with strict types,
and a bad one ends in a one-line error naming the file, the sample and the field.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from gazesite.bounded import MIB, InputError, parse_json, read_bounded
from gazesite.errors import GazesiteError
from gazesite.study import CSV_V1, CSV_V2, MAX_TEXT, MAX_TIME_MS, MODES, PARTICIPANT_RULE, SAMPLE_FORMAT, SESSION_ID, is_participant_id

#: Largest sample file: about 200,000 samples (two hours at 30 frames/s).
MAX_SAMPLES_BYTES = 64 * MIB
SOURCES = ("model", "calibrated")


class SamplesError(GazesiteError):
    """A sample file that is not a gazesite sample export."""


def read_samples(path: Path) -> dict[str, Any]:
    """Read a JSON or CSV sample export of version 1 or 2; return it in the version 2 shape."""
    try:
        data = read_bounded(Path(path), MAX_SAMPLES_BYTES)
    except InputError as exc:
        raise SamplesError(f"samples {path} {exc}: expected a gazesite samples export (JSON or CSV)") from None
    text = data.decode("utf-8", errors="strict") if _utf8(data) else None
    if text is None:
        raise SamplesError(f"samples {path}: is not UTF-8 text: expected a gazesite samples export (JSON or CSV)")
    if text.lstrip().startswith("{"):
        return parse_samples_json(text, str(path))
    return parse_samples_csv(text, str(path))


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_samples_json(text: str, name: str = "samples") -> dict[str, Any]:
    """Parse a JSON export (version 1 or 2) into the version 2 shape."""
    try:
        document = parse_json(text)
    except InputError as exc:
        raise SamplesError(f"{name} {exc}") from None
    if not isinstance(document, dict) or document.get("format") != SAMPLE_FORMAT["name"]:
        raise SamplesError(f'{name}: is not a gazesite samples export (expected "format": "{SAMPLE_FORMAT["name"]}")')
    version = document.get("version")
    if type(version) is not int or version not in (1, 2):
        raise SamplesError(f"{name}: version {version!r} is not supported (expected 1 or 2)")
    samples = document.get("samples")
    if not isinstance(samples, list):
        raise SamplesError(f'{name}: "samples" must be a list')
    out = {
        "format": SAMPLE_FORMAT["name"],
        "version": 2,
        "target": _optional_text(document.get("target"), name, "target"),
        "created": _optional_text(document.get("created"), name, "created"),
        "started": _optional_text(document.get("started"), name, "started"),
        "mode": "frame",
        "session": None,
        "study": None,
        "screen": None,
        "calibration": None,
        "pages": [],
        "participant": None,
        "pageStart": None,
        "pageEnd": None,
        "samples": [_sample(s, version, f"{name}: sample {i}") for i, s in enumerate(samples)],
    }
    if version == 1:
        out["upgraded_from"] = 1
        return out
    mode = document.get("mode")
    if mode not in MODES:
        raise SamplesError(f'{name}: "mode" {mode!r} is not one of {", ".join(MODES)}')
    session = document.get("session")
    if not (isinstance(session, str) and SESSION_ID.fullmatch(session)):
        raise SamplesError(f'{name}: "session" must be 16 to 64 letters, digits, "_" or "-"')
    out.update(
        mode=mode,
        session=session,
        study=_optional_text(document.get("study"), name, "study"),
        screen=_numbers(document.get("screen"), 2, f"{name}: screen", nullable=True),
        calibration=_calibration(document.get("calibration"), name),
        pages=_pages(document.get("pages"), name),
        **_study_fields(document, name),
    )
    return out


def _study_fields(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A study's ``participant``, ``pageStart`` and ``pageEnd`` (each optional, null when absent)."""
    participant = document.get("participant")
    if participant is not None and not is_participant_id(participant):
        raise SamplesError(f'{name}: "participant" must be null or {PARTICIPANT_RULE}')
    times = {}
    for key in ("pageStart", "pageEnd"):
        value = document.get(key)
        if value is not None and not (type(value) in (int, float) and math.isfinite(value) and 0 <= value <= MAX_TIME_MS):
            raise SamplesError(f'{name}: "{key}" must be null or ms from 0 to {MAX_TIME_MS:g}')
        times[key] = value
    if times["pageStart"] is not None and times["pageEnd"] is not None and times["pageEnd"] < times["pageStart"]:
        raise SamplesError(f'{name}: "pageEnd" must not be before "pageStart"')
    return {"participant": participant, **times}


def _sample(sample: Any, version: int, where: str) -> dict[str, Any]:
    """Check one sample and return it with the version 2 fields."""
    if not isinstance(sample, dict):
        raise SamplesError(f"{where}: must be an object")
    out = {
        "t": _number(sample.get("t"), f"{where}: t"),
        "x": _number(sample.get("x"), f"{where}: x"),
        "y": _number(sample.get("y"), f"{where}: y"),
        "viewport": _numbers(sample.get("viewport"), 2, f"{where}: viewport"),
        "scroll": _numbers(sample.get("scroll"), 2, f"{where}: scroll"),
        "dpr": _number(sample.get("dpr"), f"{where}: dpr"),
        "face": _numbers(sample.get("face"), 4, f"{where}: face"),
        "source": sample.get("source"),
    }
    if out["source"] not in SOURCES:
        raise SamplesError(f"{where}: source {out['source']!r} is not one of {', '.join(SOURCES)}")
    if version == 1:
        return {**out, "raw": [out["x"], out["y"]], "doc": None, "page": None, "element": None}
    return {
        **out,
        "raw": _numbers(sample.get("raw"), 2, f"{where}: raw"),
        "doc": _numbers(sample.get("doc"), 2, f"{where}: doc", nullable=True),
        "page": _optional_text(sample.get("page"), where, "page"),
        "element": _optional_text(sample.get("element"), where, "element"),
    }


def _number(value: Any, where: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise SamplesError(f"{where} must be a finite number, got {_short(value)}")
    return value


def _numbers(value: Any, count: int, where: str, nullable: bool = False) -> list[float] | None:
    if value is None and nullable:
        return None
    if not isinstance(value, list) or len(value) != count:
        raise SamplesError(f"{where} must be a list of {count} numbers{' or null' if nullable else ''}, got {_short(value)}")
    return [_number(v, where) for v in value]


def _optional_text(value: Any, where: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise SamplesError(f'{where}: "{key}" must be a string of at most {MAX_TEXT} characters or null, got {_short(value)}')
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _calibration(value: Any, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SamplesError(f'{name}: "calibration" must be an object or null')
    where = f"{name}: calibration"
    checked = {
        key: None if value.get(key) is None else _number(value.get(key), f"{where}.{key}") for key in ("checkError", "rawError", "points")
    }
    return {"method": _optional_text(value.get("method"), where, "method"), **checked}


def _pages(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise SamplesError(f'{name}: "pages" must be a list')
    pages = []
    for index, page in enumerate(value):
        where = f"{name}: page {index}"
        if not isinstance(page, dict) or not isinstance(page.get("id"), str):
            raise SamplesError(f"{where} must be an object with an id")
        width, height = page.get("width"), page.get("height")
        pages.append(
            {
                "id": _optional_text(page["id"], where, "id"),
                "width": None if width is None else _number(width, f"{where}: width"),
                "height": None if height is None else _number(height, f"{where}: height"),
                "image": _optional_text(page.get("image"), where, "image"),
            }
        )
    return pages


def parse_samples_csv(text: str, name: str = "samples") -> dict[str, Any]:
    """Parse a CSV export (v1 columns, or v1 then v2 columns) into the version 2 shape."""
    try:
        return _parse_csv(csv.reader(io.StringIO(text, newline="")), name)
    except csv.Error as exc:  # a NUL byte, a cell over the csv module's 128 KiB, a quote left open
        raise SamplesError(f"{name}: is not readable CSV ({exc})") from None


def _parse_csv(rows: Any, name: str) -> dict[str, Any]:
    """The CSV rows (header first) in the version 2 shape."""
    header = tuple(next(rows, ()))
    if header not in (CSV_V1, CSV_V2):
        raise SamplesError(
            f"{name}: the CSV header is not gazesite's (expected the columns {','.join(CSV_V1)}, optionally then {','.join(CSV_V2[len(CSV_V1) :])})"
        )
    version = 1 if header == CSV_V1 else 2
    samples = []
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise SamplesError(f"{name}: line {line} has {len(row)} cells, expected {len(header)}")
        cells = dict(zip(header, row, strict=True))
        sample = {
            "t": _cell(cells, "t", name, line),
            "x": _cell(cells, "x", name, line),
            "y": _cell(cells, "y", name, line),
            "viewport": [_cell(cells, "viewport_width", name, line), _cell(cells, "viewport_height", name, line)],
            "scroll": [_cell(cells, "scroll_x", name, line), _cell(cells, "scroll_y", name, line)],
            "dpr": _cell(cells, "dpr", name, line),
            "face": [_cell(cells, f"face_{k}", name, line) for k in "xywh"],
            "source": cells["source"],
        }
        if version == 2:
            doc = [_cell(cells, "doc_x", name, line, nullable=True), _cell(cells, "doc_y", name, line, nullable=True)]
            sample.update(
                raw=[_cell(cells, "raw_x", name, line), _cell(cells, "raw_y", name, line)],
                doc=None if None in doc else doc,
                page=cells["page"] or None,
                element=cells["element"] or None,
            )
        samples.append(_sample(sample, version, f"{name}: line {line}"))
    pages = {s["page"] for s in samples} - {None}
    mode = "frame" if not pages else "snapshot" if all(p.startswith("snapshot-") for p in pages) else "same-origin"
    out = {
        "format": SAMPLE_FORMAT["name"],
        "version": 2,
        "target": None,
        "created": None,
        "started": None,
        "mode": mode,
        "session": None,
        "study": None,
        "screen": None,
        "calibration": None,
        "pages": [{"id": p, "width": None, "height": None, "image": None} for p in sorted(pages)],
        "participant": None,
        "pageStart": None,
        "pageEnd": None,
        "samples": samples,
    }
    if version == 1:
        out["upgraded_from"] = 1
    return out


def _cell(cells: dict[str, str], key: str, name: str, line: int, nullable: bool = False) -> float | None:
    value = cells[key]
    if value == "" and nullable:
        return None
    try:
        number = float(value)
    except ValueError:
        raise SamplesError(f"{name}: line {line}, {key}: expected a number, got {_short(value)}") from None
    if not math.isfinite(number):
        raise SamplesError(f"{name}: line {line}, {key}: expected a finite number, got {_short(value)}")
    return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
