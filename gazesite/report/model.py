"""The records the report stages pass along: sessions of samples, pages, and the report's error type."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gazesite.errors import GazesiteError

#: The page id of samples that carry no document: v1 files and v2 ``frame`` mode (viewport px).
VIEWPORT_PAGE = "viewport"


class ReportError(GazesiteError):
    """An input the report cannot use, or an output it cannot write, explained in one line."""


@dataclass(frozen=True)
class PageInfo:
    """A document samples refer to: its size in document px and, for snapshots, its image path in the built site."""

    id: str
    width: float
    height: float
    image: str | None = None


@dataclass
class Samples:
    """One session's samples as columns, in time order; NaN where a v2 field is null."""

    t: np.ndarray  # (N,) ms since the session started
    xy: np.ndarray  # (N, 2) smoothed point, viewport px
    raw: np.ndarray  # (N, 2) unsmoothed point, viewport px (v1: the smoothed point)
    doc: np.ndarray  # (N, 2) document px, NaN when null
    viewport: np.ndarray  # (N, 2) viewport width, height
    scroll: np.ndarray  # (N, 2)
    page: np.ndarray  # (N,) object: page id, VIEWPORT_PAGE when the sample names none
    element: np.ndarray  # (N,) object: CSS path or None

    def __len__(self) -> int:
        return len(self.t)

    def take(self, index: np.ndarray) -> Samples:
        """Return the samples at ``index`` (an index array or a boolean mask)."""
        return Samples(*(getattr(self, name)[index] for name in SAMPLE_COLUMNS))

    def in_time_order(self) -> Samples:
        """These samples sorted by time (stable), repeated times dropped (the same frame sent or exported twice)."""
        ordered = self.take(np.argsort(self.t, kind="stable"))
        keep = np.ones(len(ordered), dtype=bool)
        keep[1:] = np.diff(ordered.t) > 0
        return ordered.take(keep)

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        """Join several sample sets (in the given order)."""
        return Samples(*(np.concatenate([getattr(part, name) for part in parts]) for name in SAMPLE_COLUMNS))

    def placed(self) -> np.ndarray:
        """Each sample's point on its page: ``doc`` on a document, the viewport point on VIEWPORT_PAGE (NaN: off the document)."""
        on_viewport = self.page == VIEWPORT_PAGE
        return np.where(on_viewport[:, None], self.xy, self.doc)


SAMPLE_COLUMNS = ("t", "xy", "raw", "doc", "viewport", "scroll", "page", "element")


@dataclass
class Session:
    """One participant's recording (a v2 session id, or one v1 file), merged from every input that holds it."""

    participant: str
    sources: list[str]
    version: int
    mode: str
    samples: Samples
    calibration_error: float | None = None
    screen: tuple[float, float] | None = None
    pages: dict[str, PageInfo] = field(default_factory=dict)
    participant_id: str | None = None  # the recruitment platform's id (samples v2 "participant"), when the page had one
    page_start: float | None = None  # ms when the page was first shown after calibration (samples v2 "pageStart")
    page_end: float | None = None  # ms when the participant finished (samples v2 "pageEnd")
    calibrated_from: float | None = None  # time of the first sample whose source is "calibrated"


@dataclass(frozen=True)
class LeftOut:
    """A collected session the report could not read: which one, and why (one line)."""

    session: str | None
    reason: str
