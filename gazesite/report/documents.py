"""One samples document (the page's JSON or CSV, version 1 or 2, or a collected session) as a ``Session`` record.

Every field the report uses is checked for type, range and length, and any
problem ends in one line naming the input, the sample (or CSV line) and what
is expected. Version 1 samples become version 2 records the way the samples
contract says: ``raw`` = [x, y], ``doc``, ``page`` and ``element`` null.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Iterable, Iterator
from typing import Any, Literal, Protocol, overload

import numpy as np

from gazesite.bounded import json_type
from gazesite.report.model import VIEWPORT_PAGE, PageInfo, ReportError, Samples, Session
from gazesite.study import (
    CSV_V1,
    CSV_V2,
    EXPORT_INDEX_FORMAT,
    MAX_PX,
    MAX_TIME_MS,
    MODES,
    PARTICIPANT_RULE,
    SESSION_ID,
    TEXT_RULE,
    is_participant_id,
    is_text,
)
from gazesite.study import SAMPLE_FORMAT as _FORMAT

log = logging.getLogger(__name__)

SAMPLE_FORMAT = _FORMAT["name"]
SAMPLE_VERSIONS = (1, 2)
#: Most samples in one file or collected session.
MAX_SAMPLES_PER_SESSION = 400_000
#: Most page entries in one document.
MAX_PAGES = 1000


# ---------------------------------------------------------------- JSON documents


class ExportIndex(ReportError):
    """An input that is the index ``gazesite collect export`` writes beside the session files, not a sample file."""


def session_from_document(document: Any, source: str, fallback_id: str) -> Session:
    """Check a samples document (version 1 or 2) and turn it into a session."""
    if not isinstance(document, dict):
        raise ReportError(f"{source}: expected a {SAMPLE_FORMAT} JSON object, got a JSON {json_type(document)}")
    if document.get("format") == EXPORT_INDEX_FORMAT:
        raise ExportIndex(f"{source}: the index of a 'gazesite collect export' (it lists the session files), not a sample file")
    if document.get("format") != SAMPLE_FORMAT:
        raise ReportError(f"{source}: 'format' must be {SAMPLE_FORMAT!r} (a sample file from a gazesite page)")
    version = document.get("version")
    if type(version) is not int or version not in SAMPLE_VERSIONS:
        raise ReportError(f"{source}: 'version' must be one of {', '.join(map(str, SAMPLE_VERSIONS))}")
    raw_samples = document.get("samples")
    if not isinstance(raw_samples, list):
        raise ReportError(f"{source}: 'samples' must be an array")
    if len(raw_samples) > MAX_SAMPLES_PER_SESSION:
        raise ReportError(f"{source}: {len(raw_samples):,} samples, more than {MAX_SAMPLES_PER_SESSION:,}")
    participant, mode, screen, error, pages = fallback_id, "frame", None, None, {}
    participant_id, page_start, page_end = None, None, None
    if version >= 2:
        participant = _session_id(document.get("session"), source) or fallback_id
        mode = document.get("mode", "frame")
        if mode not in MODES:
            raise ReportError(f"{source}: 'mode' must be one of {', '.join(MODES)}")
        screen = _pair(document.get("screen"), f"{source}: 'screen'", positive=True, nullable=True)
        error = _calibration_error(document.get("calibration"), source)
        pages = _pages(document.get("pages"), source)
        participant_id = _participant_id(document.get("participant"), source)
        page_start, page_end = _page_times(document, source)
    rows = [_sample_row(sample, version, f"{source}: sample {index + 1}") for index, sample in enumerate(raw_samples)]
    return Session(
        participant, [source], version, mode, _columns(rows), error, screen, pages,
        participant_id=participant_id, page_start=page_start, page_end=page_end, calibrated_from=_calibrated_from(rows),
    )  # fmt: skip


def _participant_id(value: Any, source: str) -> str | None:
    if value is None:
        return None
    if not is_participant_id(value):
        raise ReportError(f"{source}: 'participant' must be null or {PARTICIPANT_RULE}")
    return str(value)


def _page_times(document: dict[str, Any], source: str) -> tuple[float | None, float | None]:
    """The document's ``pageStart`` and ``pageEnd`` (ms on the samples' clock, null when the page did not say)."""
    start, end = (
        None if document.get(key) is None else _number(document[key], f"{source}: {key!r}", low=0.0, high=MAX_TIME_MS)
        for key in ("pageStart", "pageEnd")
    )
    if start is not None and end is not None and end < start:
        raise ReportError(f"{source}: 'pageEnd' ({end:g} ms) must not be before 'pageStart' ({start:g} ms)")
    return start, end


def _calibrated_from(rows: list[tuple[Any, ...]]) -> float | None:
    """The time of the first sample whose source is "calibrated" (the last item of each row), or None."""
    return min((row[0] for row in rows if row[-1]), default=None)


def _session_id(value: Any, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SESSION_ID.fullmatch(value):
        raise ReportError(f"{source}: 'session' must be 16-64 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _calibration_error(value: Any, source: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReportError(f"{source}: 'calibration' must be null or an object")
    check = value.get("checkError")
    if check is None:
        return None
    return _number(check, f"{source}: 'calibration.checkError'", low=0.0, high=MAX_PX)


def _pages(value: Any, source: str) -> dict[str, PageInfo]:
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_PAGES:
        raise ReportError(f"{source}: 'pages' must be an array of at most {MAX_PAGES} objects")
    pages: dict[str, PageInfo] = {}
    for index, entry in enumerate(value):
        where = f"{source}: pages[{index}]"
        if not isinstance(entry, dict):
            raise ReportError(f"{where}: expected an object {{id, width, height, image}}")
        page_id = _text(entry.get("id"), f"{where}.id", nullable=False)
        image = _text(entry.get("image"), f"{where}.image", nullable=True)
        width, height = (entry.get(key) for key in ("width", "height"))
        width = None if width is None else _number(width, f"{where}.width", low=0.0, high=MAX_PX)
        height = None if height is None else _number(height, f"{where}.height", low=0.0, high=MAX_PX)
        if width is None or height is None or width < 1 or height < 1:  # a page whose size the page could not read
            continue
        pages[page_id] = PageInfo(page_id, width, height, image)
    return pages


def _sample_row(sample: Any, version: int, where: str) -> tuple[Any, ...]:
    """Return (t, x, y, raw_x, raw_y, doc_x, doc_y, vw, vh, sx, sy, page, element, calibrated) of one JSON sample."""
    if not isinstance(sample, dict):
        raise ReportError(f"{where}: expected an object, got a JSON {json_type(sample)}")
    t = _number(sample.get("t"), f"{where}: 't'", low=0.0, high=MAX_TIME_MS)
    x = _number(sample.get("x"), f"{where}: 'x'")
    y = _number(sample.get("y"), f"{where}: 'y'")
    viewport = _pair(sample.get("viewport"), f"{where}: 'viewport'", positive=True)
    scroll = _pair(sample.get("scroll"), f"{where}: 'scroll'")
    raw, doc, page, element = (x, y), None, None, None
    if version >= 2:
        raw = _pair(sample.get("raw"), f"{where}: 'raw'", nullable=True) or (x, y)
        doc = _pair(sample.get("doc"), f"{where}: 'doc'", nullable=True)
        page = _text(sample.get("page"), f"{where}: 'page'", nullable=True)
        element = _text(sample.get("element"), f"{where}: 'element'", nullable=True)
    doc = doc or (math.nan, math.nan)
    # Only "calibrated" matters (it marks the analysis window's start); any other source is the model's own point.
    return (t, x, y, *raw, *doc, *viewport, *scroll, page, element, sample.get("source") == "calibrated")


def _number(value: Any, where: str, low: float = -MAX_PX, high: float = MAX_PX) -> float:
    # bool is an int in Python but never a coordinate; NaN and Infinity pass json.loads.
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise ReportError(f"{where} must be a finite number from {low:g} to {high:g}")
    return float(value)


@overload
def _pair(value: Any, where: str, positive: bool = ..., nullable: Literal[False] = ...) -> tuple[float, float]: ...
@overload
def _pair(value: Any, where: str, positive: bool = ..., *, nullable: bool) -> tuple[float, float] | None: ...
def _pair(value: Any, where: str, positive: bool = False, nullable: bool = False) -> tuple[float, float] | None:
    if value is None and nullable:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ReportError(f"{where} must be {'null or ' if nullable else ''}[x, y], two finite numbers")
    low = 0.0 if positive else -MAX_PX
    return _number(value[0], where, low=low), _number(value[1], where, low=low)


@overload
def _text(value: Any, where: str, nullable: Literal[False]) -> str: ...
@overload
def _text(value: Any, where: str, nullable: bool) -> str | None: ...
def _text(value: Any, where: str, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not is_text(value):
        raise ReportError(f"{where} must be {'null or ' if nullable else ''}{TEXT_RULE}")
    return value


def _columns(rows: list[tuple[Any, ...]]) -> Samples:
    """Turn sample rows into time-ordered columns; of samples sharing a time, the first is kept."""
    numbers = np.array([row[:11] for row in rows], dtype=np.float64).reshape(-1, 11)
    page = np.array([row[11] if row[11] is not None else VIEWPORT_PAGE for row in rows], dtype=object)
    element = np.array([row[12] for row in rows], dtype=object)
    samples = Samples(
        t=numbers[:, 0], xy=numbers[:, 1:3], raw=numbers[:, 3:5], doc=numbers[:, 5:7],
        viewport=numbers[:, 7:9], scroll=numbers[:, 9:11], page=page, element=element,
    )  # fmt: skip
    return samples.in_time_order()


# ---------------------------------------------------------------- CSV


def session_from_csv(data: bytes, source: str) -> Session:
    """Check a samples CSV (version 1 or 2 columns) and turn it into a session named after the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportError(f"{source}: neither a samples JSON document nor a UTF-8 samples CSV ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = tuple(next(reader, ()))
        if header not in (CSV_V1, CSV_V2):
            raise ReportError(
                f"{source}: neither a samples JSON document nor a samples CSV (the first line must be the "
                f"version 1 or 2 header, starting {','.join(CSV_V1[:4])},...)"
            )
        rows = list(_csv_rows(reader, header, source))
    except csv.Error as exc:
        raise ReportError(f"{source}: line {reader.line_num}: malformed CSV ({exc})") from None
    version = 2 if header == CSV_V2 else 1
    return Session(source, [source], version, "frame", _columns(rows), calibrated_from=_calibrated_from(rows))


class _CsvLines(Protocol):
    """What _csv_rows needs of a csv.reader: its rows, and the line number it has read up to."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def _csv_rows(reader: _CsvLines, header: tuple[str, ...], source: str) -> Iterable[tuple[Any, ...]]:
    count = 0
    for cells in reader:
        line = reader.line_num
        if not cells:
            continue
        count += 1
        if count > MAX_SAMPLES_PER_SESSION:
            raise ReportError(f"{source}: more than {MAX_SAMPLES_PER_SESSION:,} samples")
        where = f"{source}: line {line}"
        if len(cells) != len(header):
            raise ReportError(f"{where}: {len(cells)} cells, the header has {len(header)}")
        row = dict(zip(header, cells, strict=True))
        t = _cell(row, "t", where, low=0.0, high=MAX_TIME_MS)
        x, y = _cell(row, "x", where), _cell(row, "y", where)
        viewport = _cell(row, "viewport_width", where, low=0.0), _cell(row, "viewport_height", where, low=0.0)
        scroll = _cell(row, "scroll_x", where), _cell(row, "scroll_y", where)
        raw, doc, page, element = (x, y), (math.nan, math.nan), None, None
        if len(header) == len(CSV_V2):
            raw = _optional_pair(row, "raw", where) or raw
            doc = _optional_pair(row, "doc", where) or doc
            page = _text(row["page"] or None, f"{where}: page", nullable=True)
            element = _text(row["element"] or None, f"{where}: element", nullable=True)
        yield (t, x, y, *raw, *doc, *viewport, *scroll, page, element, row["source"] == "calibrated")


def _cell(row: dict[str, str], name: str, where: str, low: float = -MAX_PX, high: float = MAX_PX) -> float:
    try:
        value = float(row[name])
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise ReportError(f"{where}: {name} must be a finite number from {low:g} to {high:g}, not {row[name][:40]!r}")
    return value


def _optional_pair(row: dict[str, str], name: str, where: str) -> tuple[float, float] | None:
    first, second = row[f"{name}_x"], row[f"{name}_y"]
    if not first and not second:
        return None
    return _cell(row, f"{name}_x", where), _cell(row, f"{name}_y", where)
