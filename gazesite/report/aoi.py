"""Areas of interest: read and check an AOI file, and measure each AOI over the included participants.

An AOI file is a JSON object ``{"aois": [...]}``; each AOI has a ``name``, an
optional ``page`` (a page id such as ``"snapshot-1280"`` or ``"/about.html"``,
``"viewport"`` for frame-mode samples; absent or null: every page) and exactly
one of ``rect`` ``[x, y, width, height]`` in document px or ``element``, a CSS
path matched against the samples' ``element`` (same-origin mode): a fixation
on that element or inside it (its path continues with a space or " > ").

Measures, from the fixations inside each participant's analysis window
(quality.py): whether a participant looked (one fixation or more), time to
first fixation (from the start of the participant's time on the AOI's page, to
the onset of their first fixation in the AOI: on the page shown first, and for
an AOI that names no page, that start is the window's start, when the page was
shown after calibration; on a page reached later, the first frame on it),
first-fixation duration, dwell time (the summed durations of their fixations
in it), fixation count and revisits: a visit is a run of consecutive fixations
in the AOI (a fixation elsewhere ends it), and revisits are the visits after
the first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.bounded import MIB, InputError, json_type, read_json
from gazesite.report.fixations import Fixation
from gazesite.report.model import ReportError, Session
from gazesite.samples.schema import MAX_PX

MAX_AOI_FILE_BYTES = 1 * MIB
MAX_AOIS = 500
MAX_NAME = 200
MAX_SELECTOR = 1000
_AOI_KEYS = {"name", "page", "rect", "element"}


@dataclass(frozen=True)
class Aoi:
    """One area of interest: a rectangle in document px, or a CSS path."""

    name: str
    page: str | None
    rect: tuple[float, float, float, float] | None = None
    element: str | None = None

    @property
    def kind(self) -> str:
        """The AOI's kind: "rect" or "element"."""
        return "rect" if self.rect is not None else "element"

    @property
    def definition(self) -> str:
        """The AOI's shape as text, for tables."""
        if self.rect is not None:
            return "x {:g}, y {:g}, {:g} x {:g} px".format(*self.rect)
        return str(self.element)

    def contains(self, fixation: Fixation) -> bool:
        """True when the fixation lies on the AOI (page, then rectangle or element)."""
        if self.page is not None and fixation.page != self.page:
            return False
        if self.rect is not None:
            x, y, width, height = self.rect
            return fixation.placed and x <= fixation.x <= x + width and y <= fixation.y <= y + height
        found = fixation.element
        return found is not None and (found == self.element or found.startswith(f"{self.element} "))


@dataclass
class AoiVisit:
    """One participant's measures on one AOI."""

    aoi: str
    participant: str
    ttff_ms: float | None
    dwell_ms: float
    fixations: int
    first_fixation_ms: float | None = None
    revisits: int = 0


@dataclass
class AoiSummary:
    """One AOI's measures over the included participants."""

    aoi: Aoi
    participants: int
    looked: int
    ttff_median_ms: float | None
    ttff_mean_ms: float | None
    dwell_total_ms: float
    dwell_mean_ms: float | None
    fixations: int
    first_fixation_median_ms: float | None = None
    first_fixation_mean_ms: float | None = None
    revisits_total: int = 0
    revisits_mean: float | None = None  # over the participants who looked


def read_aois(path: Path) -> list[Aoi]:
    """Read and check an AOI file; any problem is one line naming the file and the AOI."""
    try:
        document = read_json(path, MAX_AOI_FILE_BYTES)
    except InputError as exc:
        raise ReportError(f"--aoi {path}: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"aois"} or not isinstance(document["aois"], list):
        raise ReportError(f'--aoi {path}: expected a JSON object {{"aois": [...]}} and nothing else')
    entries = document["aois"]
    if not 0 < len(entries) <= MAX_AOIS:
        raise ReportError(f"--aoi {path}: 'aois' must list 1 to {MAX_AOIS} areas, not {len(entries)}")
    aois = [_aoi(entry, f"--aoi {path}: aois[{index}]") for index, entry in enumerate(entries)]
    names = [aoi.name for aoi in aois]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise ReportError(f"--aoi {path}: the name {duplicate!r} is used twice; every AOI needs its own name")
    return aois


def _aoi(entry: Any, where: str) -> Aoi:
    if not isinstance(entry, dict):
        raise ReportError(f"{where}: expected an object, got a JSON {json_type(entry)}")
    unknown = sorted(set(entry) - _AOI_KEYS)
    if unknown:
        raise ReportError(f"{where}: unknown key {unknown[0]!r} (expected name, page, and rect or element)")
    name = _string(entry.get("name"), f"{where}.name", MAX_NAME)
    page = None if entry.get("page") is None else _string(entry["page"], f"{where}.page", MAX_SELECTOR)
    has_rect, has_element = entry.get("rect") is not None, entry.get("element") is not None
    if has_rect == has_element:
        raise ReportError(f"{where} ({name}): give exactly one of rect [x, y, width, height] or element (a CSS path)")
    if has_element:
        return Aoi(name, page, element=_string(entry["element"], f"{where}.element", MAX_SELECTOR))
    rect = entry["rect"]
    numbers_ok = isinstance(rect, list) and len(rect) == 4 and all(type(v) in (int, float) and math.isfinite(v) for v in rect)
    if not numbers_ok or not (rect[2] > 0 and rect[3] > 0) or max(abs(v) for v in rect) > MAX_PX:
        raise ReportError(f"{where}.rect ({name}): expected [x, y, width, height], finite px, width and height above 0")
    return Aoi(name, page, rect=(float(rect[0]), float(rect[1]), float(rect[2]), float(rect[3])))


def _string(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= limit or not value.isprintable():
        raise ReportError(f"{where}: expected a printable string of 1-{limit} characters")
    return value


def first_frames(session: Session, window_start: float | None = None) -> dict[str | None, float]:
    """Return when the participant's time on each page starts, and overall (key None).

    ``session`` holds the samples of its analysis window, which starts at ``window_start`` (None: its first
    frame). The page shown first and the overall start are the window's start; a later page starts at its
    first frame.
    """
    samples = session.samples
    starts: dict[str | None, float] = {}
    if len(samples):
        begin = float(samples.t[0]) if window_start is None else min(window_start, float(samples.t[0]))
        pages, first = np.unique(samples.page.astype(str), return_index=True)
        starts.update({str(page): float(samples.t[index]) for page, index in zip(pages, first, strict=True)})
        starts[None] = starts[str(samples.page[0])] = begin
    return starts


def visit(aoi: Aoi, participant: str, found: list[Fixation], start: float | None) -> AoiVisit:
    """One participant's measures on one AOI, from their fixations in time order; ``start``: when TTFF counts from."""
    inside = [aoi.contains(fixation) for fixation in found]
    hits = [fixation for fixation, hit in zip(found, inside, strict=True) if hit]
    entries = sum(hit and (index == 0 or not inside[index - 1]) for index, hit in enumerate(inside))
    return AoiVisit(
        aoi=aoi.name,
        participant=participant,
        ttff_ms=hits[0].onset_ms - start if hits and start is not None else None,
        dwell_ms=sum(hit.duration_ms for hit in hits),
        fixations=len(hits),
        first_fixation_ms=hits[0].duration_ms if hits else None,
        revisits=max(0, entries - 1),
    )


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def measure(
    aois: list[Aoi], fixations: dict[str, list[Fixation]], starts: dict[str, dict[str | None, float]]
) -> tuple[list[AoiSummary], list[AoiVisit]]:
    """Measure every AOI for every participant in ``fixations`` (the included ones)."""
    summaries, visits = [], []
    for aoi in aois:
        rows = [visit(aoi, participant, found, starts[participant].get(aoi.page)) for participant, found in fixations.items()]
        visits.extend(rows)
        looked = [row for row in rows if row.fixations]
        ttffs = [row.ttff_ms for row in looked if row.ttff_ms is not None]
        firsts = [row.first_fixation_ms for row in looked if row.first_fixation_ms is not None]
        summaries.append(
            AoiSummary(
                aoi=aoi,
                participants=len(rows),
                looked=len(looked),
                ttff_median_ms=_median(ttffs),
                ttff_mean_ms=_mean(ttffs),
                dwell_total_ms=float(sum(row.dwell_ms for row in rows)),
                dwell_mean_ms=_mean([row.dwell_ms for row in looked]),
                fixations=sum(row.fixations for row in rows),
                first_fixation_median_ms=_median(firsts),
                first_fixation_mean_ms=_mean(firsts),
                revisits_total=sum(row.revisits for row in rows),
                revisits_mean=_mean([float(row.revisits) for row in looked]),
            )
        )
    return summaries, visits
