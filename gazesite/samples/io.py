"""Read sample exports (the page's JSON or CSV, version 1 or 2, or a collected session's file) into the version 2 shape.

``read_samples(path)`` tells JSON from CSV by the first character; ``read_json``,
``read_csv``, ``from_json`` and ``from_csv`` read one kind. Every file is
untrusted: bounded in bytes (MAX_FILE_BYTES), JSON nesting and numbers
(gazesite.bounded), strict UTF-8, then checked field by field (validate); a
bad one ends in a one-line SamplesError naming the file, the sample and the field.

A CSV carries only the samples: the document fields it cannot know are null,
and its mode is inferred from the page ids.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any, Protocol

from gazesite.bounded import MAX_JSON_DEPTH, InputError, parse_json, read_bounded
from gazesite.samples import schema
from gazesite.samples.schema import CSV_V1, CSV_V2, MAX_FILE_BYTES, SAMPLE_FORMAT_NAME, SAMPLE_VERSION
from gazesite.samples.upgrade import V1_DOCUMENT, upgrade_sample
from gazesite.samples.validate import FIELD_RANGES, check_document, check_sample, fail

#: A number in a CSV cell as the page writes one (JavaScript's String(number)): no spaces, "_", "inf" or "nan".
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: Integers this short stay integers, as in the JSON export (a longer run of digits is read as a float).
_INTEGER = re.compile(r"-?\d{1,15}")
#: The columns holding a sample field's numbers: field -> its columns, in the field's order.
_CSV_NUMBERS = {
    "t": ("t",),
    "x": ("x",),
    "y": ("y",),
    "viewport": ("viewport_width", "viewport_height"),
    "face": ("face_x", "face_y", "face_w", "face_h"),
    "scroll": ("scroll_x", "scroll_y"),
    "dpr": ("dpr",),
}
#: Version 2's number columns: an empty pair means null.
_CSV_OPTIONAL_PAIRS = {"raw": ("raw_x", "raw_y"), "doc": ("doc_x", "doc_y")}


def read_samples(path: Path) -> dict[str, Any]:
    """Read a JSON or CSV sample export of version 1 or 2 (told apart by its first character); return the version 2 shape."""
    data = read_export(path)
    return from_json(data, str(path)) if is_json(data) else from_csv(data, str(path))


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON sample export (version 1 or 2, or a collected session's file) into the version 2 shape."""
    return from_json(read_export(path), str(path))


def read_csv(path: Path) -> dict[str, Any]:
    """Read a CSV sample export (version 1 columns, or version 1 then version 2 columns) into the version 2 shape."""
    return from_csv(read_export(path), str(path))


def read_export(path: Path) -> bytes:
    """The bytes of a sample file: a regular file of at most MAX_FILE_BYTES."""
    try:
        return read_bounded(Path(path), MAX_FILE_BYTES)
    except InputError as exc:
        fail(f"{path}: {exc}")


def is_json(data: bytes) -> bool:
    """Whether a sample file is JSON (its first character after a byte order mark and spaces is { or [), not CSV."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _text(data: bytes | str, name: str) -> str:
    """The file's text: strict UTF-8 (a byte order mark, as spreadsheets write it, is dropped)."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{name}: neither a samples JSON document nor a UTF-8 samples CSV ({exc.reason} at byte {exc.start})")


def from_json(data: bytes | str, name: str = "samples") -> dict[str, Any]:
    """Parse and check a JSON export (version 1 or 2); ``name`` names it in messages."""
    try:
        document = parse_json(_text(data, name), MAX_JSON_DEPTH)
    except InputError as exc:
        fail(f"{name}: {exc}")
    return check_document(document, name)


# ---------------------------------------------------------------- CSV


def from_csv(data: bytes | str, name: str = "samples") -> dict[str, Any]:
    """Parse and check a CSV export (version 1 columns, or version 1 then version 2 columns); ``name`` names it in messages."""
    reader = csv.reader(StringIO(_text(data, name), newline=""), strict=True)
    try:
        header = tuple(next(reader, ()))
        if header not in (CSV_V1, CSV_V2):
            fail(
                f"{name}: neither a samples JSON document nor a samples CSV (the first line must be the "
                f"version 1 or 2 header: {','.join(CSV_V1)}, optionally then {','.join(CSV_V2[len(CSV_V1) :])})"
            )
        samples = list(_csv_samples(reader, header, name))
    except csv.Error as exc:  # a NUL byte, a cell over the csv module's 128 KiB, a quote left open
        fail(f"{name}: line {reader.line_num}: malformed CSV ({exc})")
    pages = sorted({s["page"] for s in samples} - {None})
    document: dict[str, Any] = {
        "format": SAMPLE_FORMAT_NAME,
        "version": SAMPLE_VERSION,
        "target": None,
        "created": None,
        "started": None,
        **V1_DOCUMENT,
        "mode": "frame" if not pages else "snapshot" if all(p.startswith("snapshot-") for p in pages) else "same-origin",
        "pages": [{"id": page, "width": None, "height": None, "image": None} for page in pages],
        "samples": samples,
    }
    if header == CSV_V1:
        document["upgraded_from"] = 1
    return document


class _CsvLines(Protocol):
    """What _csv_samples needs of a csv.reader: its rows, and the line number it has read up to."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def _csv_samples(reader: _CsvLines, header: tuple[str, ...], name: str) -> Iterator[dict[str, Any]]:
    """Each row as a checked, upgraded sample."""
    count = 0
    for cells in reader:
        if not cells:
            continue
        count += 1
        if count > schema.MAX_SAMPLES_PER_SESSION:
            fail(f"{name}: more than {schema.MAX_SAMPLES_PER_SESSION:,} samples")
        where = f"{name}: line {reader.line_num}"
        if len(cells) != len(header):
            fail(f"{where}: {len(cells)} cells, the header has {len(header)}")
        row = dict(zip(header, cells, strict=True))
        sample: dict[str, Any] = {}
        for field, columns in _CSV_NUMBERS.items():
            numbers = [_cell(row, column, field, where) for column in columns]
            sample[field] = numbers[0] if len(numbers) == 1 else numbers
        sample["source"] = row["source"]
        if header == CSV_V2:
            for field, columns in _CSV_OPTIONAL_PAIRS.items():
                empty = all(row[column] == "" for column in columns)
                sample[field] = None if empty else [_cell(row, column, field, where) for column in columns]
            sample["page"] = row["page"] or None
            sample["element"] = row["element"] or None
        check_sample(sample, where, quoted=False)
        yield upgrade_sample(sample)


def _cell(row: dict[str, str], column: str, field: str, where: str) -> float:
    """A number cell, checked against its field's range (the message keeps the cell as written)."""
    text = row[column]
    number: float = float(text) if _NUMBER.fullmatch(text) else float("nan")
    if not FIELD_RANGES[field].holds(number):
        fail(f"{where}: {column} must be {FIELD_RANGES[field].text()}, not {text[:40]!r}")
    return int(text) if _INTEGER.fullmatch(text) else number
