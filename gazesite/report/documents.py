"""One samples document (the page's JSON or CSV, version 1 or 2, or a collected session) as a ``Session`` record.

The checks and the version 1 upgrade are the samples format's own
(``gazesite.samples``): a document the collect server stored or the public
reader reads is one the report reads, refused with the same one-line message
naming the input, the sample (or CSV line) and what is expected. Here the
checked document becomes columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from gazesite.report.model import VIEWPORT_PAGE, PageInfo, ReportError, Samples, Session
from gazesite.samples.validate import ExportIndexError, SamplesError, check_document


class ExportIndex(ReportError):
    """An input that is the index ``gazesite collect export`` writes beside the session files, not a sample file."""


@contextmanager
def reported() -> Iterator[None]:
    """Turn the samples format's refusals into the report's (ExportIndex for an export's index), message unchanged."""
    try:
        yield
    except ExportIndexError as exc:
        raise ExportIndex(exc.message) from None
    except SamplesError as exc:
        raise ReportError(exc.message) from None


def session_from_document(document: Any, source: str, fallback_id: str) -> Session:
    """Check a samples document (version 1 or 2) and turn it into a session."""
    with reported():
        checked = check_document(document, source)
    return session_from_checked(checked, source, fallback_id)


def session_from_checked(document: dict[str, Any], source: str, fallback_id: str, mode: str | None = None) -> Session:
    """A checked document in the version 2 shape (``gazesite.samples``) as a session; ``mode`` overrides the document's."""
    rows = document["samples"]
    calibration = document["calibration"]
    error = None if calibration is None or calibration["checkError"] is None else float(calibration["checkError"])
    screen = document["screen"]
    return Session(
        document["session"] or fallback_id, [source], 1 if document.get("upgraded_from") == 1 else 2, mode or document["mode"],
        _columns(rows), error, None if screen is None else (float(screen[0]), float(screen[1])), _pages(document["pages"]),
        participant_id=document["participant"], page_start=_ms(document["pageStart"]), page_end=_ms(document["pageEnd"]),
        calibrated_from=_ms(min((row["t"] for row in rows if row.get("source") == "calibrated"), default=None)),
    )  # fmt: skip


def _ms(value: float | None) -> float | None:
    return None if value is None else float(value)


def _pages(pages: list[dict[str, Any]]) -> dict[str, PageInfo]:
    """The pages whose size the page could read (a later entry of the same id wins)."""
    return {
        page["id"]: PageInfo(page["id"], float(page["width"]), float(page["height"]), page["image"])
        for page in pages
        if page["width"] is not None and page["height"] is not None and page["width"] >= 1 and page["height"] >= 1
    }


_OFF_DOCUMENT = (math.nan, math.nan)


def _columns(rows: list[dict[str, Any]]) -> Samples:
    """Turn checked, upgraded sample rows into time-ordered columns; of samples sharing a time, the first is kept."""
    numbers = np.array(
        [(row["t"], row["x"], row["y"], *row["raw"], *(row["doc"] or _OFF_DOCUMENT), *row["viewport"], *row["scroll"]) for row in rows],
        dtype=np.float64,
    ).reshape(-1, 11)
    page = np.array([row["page"] if row["page"] is not None else VIEWPORT_PAGE for row in rows], dtype=object)
    element = np.array([row["element"] for row in rows], dtype=object)
    samples = Samples(
        t=numbers[:, 0], xy=numbers[:, 1:3], raw=numbers[:, 3:5], doc=numbers[:, 5:7],
        viewport=numbers[:, 7:9], scroll=numbers[:, 9:11], page=page, element=element,
    )  # fmt: skip
    return samples.in_time_order()
