"""Fixations from the raw (unsmoothed) gaze points with pymovements' I-DT, in pixels.

Screen size and viewing distance are unknown to a web page, so thresholds are
in CSS px, not degrees. The steps, per participant:

1. Split the samples into runs: a new run starts where the time between two
   logged frames exceeds ``FACE_LOST_GAP_MS`` (the face was lost: frames
   without a face are not logged) or where the page changes. Resampling across
   such a gap would invent gaze points.
2. Resample each run's raw viewport points linearly onto an even
   ``RESAMPLE_MS`` grid of integer ms (pymovements' I-DT needs constant
   integer steps) and run ``pymovements.events.idt`` on it in chunks of
   ``IDT_CHUNK`` grid points (its window grows by re-measuring the whole
   window, so one call's cost grows with the square of a fixation's length);
   fixations that touch across a chunk border are joined again.
3. Map each window back to the logged frames inside it. pymovements' window
   ends on the point that broke the threshold, so trailing frames are dropped
   while the dispersion exceeds it. A fixation starts at its first frame and
   lasts until its last frame plus one frame interval (each frame stands for
   one interval), so it does not depend on the resampling step.
4. Its position is the median raw point, on documents mapped into document px
   with the frame's own viewport-to-document mapping (see ``doc_points``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from gazesite.report.model import VIEWPORT_PAGE, ReportError, Samples, Session
from gazesite.report.quality import frame_interval

#: A longer pause between logged frames means the face was lost: runs split there.
FACE_LOST_GAP_MS = 250.0
#: Even grid the raw points are resampled onto, in ms.
RESAMPLE_MS = 10
#: I-DT dispersion threshold: (max x - min x) + (max y - min y) of a fixation's points, in CSS px.
#: About 4 degrees at 60 cm on a 96 dpi screen. A webcam tracker's raw points jitter by tens of px from
#: frame to frame: a 600 ms fixation with 14 px of jitter per axis spans about 100 px, so a tighter
#: threshold cuts real fixations into pieces. Points less than this apart merge into one fixation.
DISPERSION_PX = 150.0
#: I-DT minimum fixation duration, in ms (Salvucci and Goldberg's 100 ms).
MIN_FIXATION_MS = 100
#: Grid points per I-DT call: 10 s at RESAMPLE_MS.
IDT_CHUNK = 1000


@dataclass(frozen=True)
class FixationSettings:
    """The I-DT thresholds and the face-lost gap."""

    dispersion_px: float = DISPERSION_PX
    min_duration_ms: int = MIN_FIXATION_MS
    gap_ms: float = FACE_LOST_GAP_MS

    def validate(self) -> FixationSettings:
        """Return self, or raise ReportError naming the setting that I-DT cannot use."""
        if not 0 < self.dispersion_px <= 100_000:
            raise ReportError(f"--dispersion {self.dispersion_px:g}: expected px above 0 and at most 100000")
        if self.min_duration_ms < 2 * RESAMPLE_MS or self.min_duration_ms % RESAMPLE_MS or self.min_duration_ms > 10_000:
            raise ReportError(
                f"--min-fixation {self.min_duration_ms}: expected a multiple of {RESAMPLE_MS} ms from {2 * RESAMPLE_MS} to 10000"
            )
        return self


@dataclass(frozen=True)
class Fixation:
    """One fixation: when, how long, and where on its page (document px, or viewport px on VIEWPORT_PAGE)."""

    participant: str
    page: str
    onset_ms: float
    duration_ms: float
    x: float  # NaN when the gaze was off the document
    y: float
    element: str | None
    run: int

    @property
    def placed(self) -> bool:
        """True when the fixation has a position on its page."""
        return bool(np.isfinite(self.x) and np.isfinite(self.y))


def runs(samples: Samples, gap_ms: float) -> list[tuple[int, int]]:
    """Return [start, end) index ranges of uninterrupted samples: no face-lost gap, one page."""
    if len(samples) == 0:
        return []
    breaks = np.flatnonzero((np.diff(samples.t) > gap_ms) | (samples.page[1:] != samples.page[:-1])) + 1
    edges = [0, *breaks.tolist(), len(samples)]
    return list(itertools.pairwise(edges))


def dispersion(points: np.ndarray) -> float:
    """I-DT dispersion of points (N, 2): x range plus y range."""
    return float(np.sum(points.max(axis=0) - points.min(axis=0)))


def detect_fixations(session: Session, settings: FixationSettings) -> list[Fixation]:
    """Return the participant's fixations in time order."""
    samples = session.samples
    interval = frame_interval(samples.t)
    if interval is None:
        return []
    doc_raw = doc_points(samples)
    fixations = []
    for number, (start, end) in enumerate(runs(samples, settings.gap_ms)):
        for first, last in idt_windows(samples.t[start:end], samples.raw[start:end], settings):
            index = np.arange(start + first, start + last + 1)
            page = samples.page[start]
            points = samples.raw[index] if page == VIEWPORT_PAGE else doc_raw[index]
            points = points[np.isfinite(points).all(axis=1)]
            x, y = np.median(points, axis=0) if len(points) else (np.nan, np.nan)
            elements = Counter(element for element in samples.element[index] if element is not None)
            fixations.append(
                Fixation(
                    participant=session.participant,
                    page=page,
                    onset_ms=float(samples.t[index[0]]),
                    duration_ms=float(samples.t[index[-1]] - samples.t[index[0]] + interval),
                    x=float(x),
                    y=float(y),
                    element=elements.most_common(1)[0][0] if elements else None,
                    run=number,
                )
            )
    return fixations


def idt_windows(t: np.ndarray, raw: np.ndarray, settings: FixationSettings) -> list[tuple[int, int]]:
    """Return fixations of one run as inclusive (first, last) indices of its logged frames."""
    from pymovements.events import idt  # polars and friends load only when a report runs

    if len(t) < 2:
        return []
    offsets = t - t[0]
    # The grid reaches past the last frame (np.interp holds its value) so the last frame lies inside it.
    grid = np.arange(int(np.ceil(offsets[-1] / RESAMPLE_MS)) + 1, dtype=np.int64) * RESAMPLE_MS
    needed = settings.min_duration_ms // RESAMPLE_MS
    if len(grid) < needed:
        return []
    points = np.column_stack([np.interp(grid, offsets, raw[:, 0]), np.interp(grid, offsets, raw[:, 1])])
    windows: list[tuple[int, int]] = []
    for chunk in range(0, len(grid), IDT_CHUNK):
        part = slice(chunk, chunk + IDT_CHUNK)
        if len(grid[part]) < needed:
            break
        events = idt(
            points[part],
            timesteps=grid[part],
            minimum_duration=settings.min_duration_ms,
            dispersion_threshold=settings.dispersion_px,
        ).frame
        for onset, offset in zip(events["onset"].to_list(), events["offset"].to_list(), strict=True):
            inside = np.flatnonzero((offsets >= onset) & (offsets <= offset))
            if len(inside):
                windows.append(_trim(int(inside[0]), int(inside[-1]), raw, settings.dispersion_px))
    return _join_touching(windows, raw, settings.dispersion_px)


def _trim(first: int, last: int, raw: np.ndarray, threshold: float) -> tuple[int, int]:
    """Drop trailing frames while the window's dispersion exceeds the threshold."""
    while last > first and dispersion(raw[first : last + 1]) > threshold:
        last -= 1
    return first, last


def _join_touching(windows: list[tuple[int, int]], raw: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Join fixations that follow each other without a frame between them and stay within the threshold together."""
    joined: list[tuple[int, int]] = []
    for first, last in windows:
        if joined and first <= joined[-1][1] + 1 and dispersion(raw[joined[-1][0] : last + 1]) <= threshold:
            joined[-1] = (joined[-1][0], last)
        elif not joined or first > joined[-1][1]:
            joined.append((first, last))
    return joined


def doc_points(samples: Samples) -> np.ndarray:
    """Map each frame's raw viewport point into document px: ``doc + k * (raw - xy)``; NaN without ``doc``.

    ``doc`` is the document position of the smoothed point ``xy``; the raw point
    differs from it on screen by ``raw - xy``, which the page's display scale
    ``k`` (document px per viewport px) turns into document px. ``k`` is 1 when
    the document is shown at its own size; it is estimated per page from frames
    that share a scroll offset (there ``doc = k * xy + c``), and 1 when they
    cannot tell (too little movement).
    """
    mapped = np.full_like(samples.doc, np.nan)
    for page in np.unique(samples.page[samples.page != VIEWPORT_PAGE]):
        on_page = (samples.page == page) & np.isfinite(samples.doc).all(axis=1)
        if not on_page.any():
            continue
        scale = display_scale(samples.xy[on_page], samples.doc[on_page], samples.scroll[on_page])
        mapped[on_page] = samples.doc[on_page] + scale * (samples.raw[on_page] - samples.xy[on_page])
    return mapped


def display_scale(xy: np.ndarray, doc: np.ndarray, scroll: np.ndarray) -> float:
    """Estimate document px per viewport px from frames grouped by scroll offset (pooled within-group slope)."""
    _, group = np.unique(scroll, axis=0, return_inverse=True)
    group = group.reshape(-1)
    counts = np.bincount(group).astype(np.float64)
    numerator = denominator = 0.0
    for axis in range(2):
        mean_xy = np.bincount(group, weights=xy[:, axis]) / counts
        mean_doc = np.bincount(group, weights=doc[:, axis]) / counts
        dx = xy[:, axis] - mean_xy[group]
        numerator += float(np.sum(dx * (doc[:, axis] - mean_doc[group])))
        denominator += float(np.sum(dx * dx))
    # At least ~10 px of spread over the frames, or the slope is noise.
    if denominator < 100.0 * max(len(xy), 1):
        return 1.0
    scale = numerator / denominator
    return scale if 0.05 <= scale <= 20.0 else 1.0
