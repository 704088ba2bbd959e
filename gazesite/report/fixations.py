"""Fixations from the raw (unsmoothed) gaze points with I-DT (as pymovements computes it), in pixels.

Screen size and viewing distance are unknown to a web page, so thresholds are
in CSS px, not degrees. The steps, per participant:

1. Split the samples into runs: a new run starts where the time between two
   logged frames exceeds ``FACE_LOST_GAP_MS`` (the face was lost: frames
   without a face are not logged) or where the page changes. Resampling across
   such a gap would invent gaze points.
2. Resample each run's raw viewport points linearly onto an even
   ``RESAMPLE_MS`` grid of integer ms and find I-DT windows on the whole run
   at once with ``grid_idt``: it reproduces the events of
   ``pymovements.events.idt`` on that grid (the same windows, the same
   inclusive ends, the same next start; the tests check it against
   pymovements), but keeps the window's running minima and maxima in monotonic
   queues instead of re-measuring the whole window each time it grows, so its
   cost is linear in grid points however long a fixation lasts. Fixations
   that touch are joined when they stay within the threshold together.
3. Map each window back to the logged frames inside it (a binary search on
   the frame times) and fit fixations to those frames: from the window's first
   frame, take the longest run of frames whose raw dispersion stays within the
   threshold; keep it when it lasts at least the minimum duration and go on
   after it, else go on from the next frame (I-DT itself, on the logged frames,
   inside the window). Resampling smooths a single stray frame away, so a
   window can hold frames that break the threshold (pymovements' window also
   ends on the point that broke it); they split or shorten the window, and a
   piece shorter than the minimum is never reported. Two pointers and running
   minima and maxima keep this linear in frames. A fixation starts at its first
   frame and lasts until its last frame plus one frame interval (each frame
   stands for one interval), so it does not depend on the resampling step.
4. Its position is the median raw point, on documents mapped into document px
   with the frame's own viewport-to-document mapping (see ``doc_points``).
"""

from __future__ import annotations

import itertools
from collections import Counter, deque
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
#: Floating-point slack when a fixation's duration is compared with the minimum (sums of frame steps round).
_DURATION_SLACK_MS = 1e-6


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
        for first, last in idt_windows(samples.t[start:end], samples.raw[start:end], settings, interval):
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


def idt_windows(t: np.ndarray, raw: np.ndarray, settings: FixationSettings, interval: float) -> list[tuple[int, int]]:
    """Return fixations of one run as inclusive (first, last) indices of its logged frames (``interval``: ms per frame)."""
    if len(t) < 2:
        return []
    offsets = t - t[0]
    # The grid reaches past the last frame (np.interp holds its value) so the last frame lies inside it.
    grid = np.arange(int(np.ceil(offsets[-1] / RESAMPLE_MS)) + 1, dtype=np.int64) * RESAMPLE_MS
    needed = settings.min_duration_ms // RESAMPLE_MS
    if len(grid) < needed:
        return []
    points = np.column_stack([np.interp(grid, offsets, raw[:, 0]), np.interp(grid, offsets, raw[:, 1])])
    onsets, ends = grid_idt(points, needed, settings.dispersion_px)  # grid indices
    xs, ys = raw[:, 0].tolist(), raw[:, 1].tolist()
    times = offsets.tolist()
    windows: list[tuple[int, int]] = []
    taken = -1  # the last frame a window held: windows never share a frame
    # A window holds the frames after its first grid point's predecessor and before its last one's successor:
    # a frame between two grid points shapes both, so a fixation's first frame is not lost to the grid, and
    # fixations that follow each other on the grid still touch. The fit drops any of them that breaks the threshold.
    firsts = np.searchsorted(offsets, grid[onsets] - RESAMPLE_MS, side="right")
    lasts = np.searchsorted(offsets, grid[ends] + RESAMPLE_MS, side="left") - 1
    for first, last in zip(firsts.tolist(), lasts.tolist(), strict=True):
        first = max(first, taken + 1)
        if first <= last:
            found = fit_fixations(times, xs, ys, first, last, settings, interval)
            windows.extend(found)
            taken = max(last, found[-1][1] if found else last)
    return _join_touching(windows, raw, settings.dispersion_px)


def grid_idt(points: np.ndarray, min_points: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """I-DT on evenly spaced points (N, 2): inclusive (onsets, offsets) indices of the fixations, as int64 arrays.

    The events are those of ``pymovements.events.idt(points, timesteps=grid,
    minimum_duration=min_points * step, dispersion_threshold=threshold)`` for
    an even integer grid with that step (pymovements 0.28, NaN-free points):
    the window starts as ``min_points`` points from the scan position; when
    its dispersion (x range plus y range) exceeds the threshold the scan moves
    on one point, else the window grows one point at a time while its
    dispersion stays below the threshold (strictly), so it ends on the point
    that reached or broke the threshold, or on the last point. The window is a
    fixation and the scan goes on after it. A scan position with fewer than
    ``min_points`` points left ends the search. The window's running minima and
    maxima live in monotonic queues and every point enters them once, so this
    is linear in points.
    """
    if min_points < 1:
        raise ValueError(f"min_points must be at least 1, got {min_points}")
    count = len(points)
    xs, ys = points[:, 0].tolist(), points[:, 1].tolist()
    onsets: list[int] = []
    offsets: list[int] = []
    # Indices in the window start..end-1, their values increasing (minima) or decreasing (maxima) from the front.
    low_x: deque[int] = deque()
    high_x: deque[int] = deque()
    low_y: deque[int] = deque()
    high_y: deque[int] = deque()
    queues = ((low_x, xs, True), (high_x, xs, False), (low_y, ys, True), (high_y, ys, False))

    def push(index: int) -> None:
        for queue, values, lowest in queues:
            value = values[index]
            while queue and (values[queue[-1]] >= value if lowest else values[queue[-1]] <= value):
                queue.pop()
            queue.append(index)

    start = end = 0  # the window is start..end-1
    while start + min_points <= count:
        while end < start + min_points:
            push(end)
            end += 1
        spread = (xs[high_x[0]] - xs[low_x[0]]) + (ys[high_y[0]] - ys[low_y[0]])
        if spread <= threshold:
            while spread < threshold and end < count:
                push(end)
                end += 1
                spread = (xs[high_x[0]] - xs[low_x[0]]) + (ys[high_y[0]] - ys[low_y[0]])
            onsets.append(start)
            offsets.append(end - 1)
            start = end
            for queue, _, _ in queues:
                queue.clear()
        else:
            start += 1
            for queue, _, _ in queues:
                if queue[0] < start:
                    queue.popleft()
    return np.asarray(onsets, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def fit_fixations(
    t: list[float], xs: list[float], ys: list[float], first: int, last: int, settings: FixationSettings, interval: float
) -> list[tuple[int, int]]:
    """I-DT on the frames from ``first``: fixations that start in ``first..last``, each the longest run of frames
    within the dispersion, lasting the minimum duration.

    From a start frame, the run grows while its dispersion stays within the
    threshold (past ``last`` too: resampling can end a window early, when an
    interpolated point near a saccade used up the threshold); a run that lasts
    at least the minimum (last frame - first frame + ``interval``) is a fixation
    and the next start is the frame after it, else the next start is the next
    frame. A run from a later start reaches at least as far (fewer points
    disperse no more), so the end never moves back: with the running extremes
    in monotonic queues this is linear in frames.
    """
    threshold, shortest = settings.dispersion_px, settings.min_duration_ms - _DURATION_SLACK_MS
    found: list[tuple[int, int]] = []
    # Indices in the window, their values increasing (minima) or decreasing (maxima) from the front.
    low_x: deque[int] = deque()
    high_x: deque[int] = deque()
    low_y: deque[int] = deque()
    high_y: deque[int] = deque()
    queues = ((low_x, xs, True), (high_x, xs, False), (low_y, ys, True), (high_y, ys, False))
    start, end, limit = first, first - 1, len(t) - 1  # the run is start..end, empty to begin with
    while start <= last:
        while end < limit:
            nxt = end + 1
            if end >= start:
                spread_x = max(xs[high_x[0]], xs[nxt]) - min(xs[low_x[0]], xs[nxt])
                spread_y = max(ys[high_y[0]], ys[nxt]) - min(ys[low_y[0]], ys[nxt])
                if spread_x + spread_y > threshold:
                    break
            for queue, values, lowest in queues:
                value = values[nxt]
                while queue and (values[queue[-1]] >= value if lowest else values[queue[-1]] <= value):
                    queue.pop()
                queue.append(nxt)
            end = nxt
        if t[end] - t[start] + interval >= shortest:
            found.append((start, end))
            start = end + 1
            for queue, _, _ in queues:
                queue.clear()
        else:
            start += 1
            for queue, _, _ in queues:
                while queue and queue[0] < start:
                    queue.popleft()
        end = max(end, start - 1)
    return found


def _join_touching(windows: list[tuple[int, int]], raw: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Join fixations that follow each other without a frame between them and stay within the threshold together."""
    joined: list[tuple[int, int]] = []
    box = np.zeros(4)  # the last joined fixation's min x, min y, max x, max y: a join costs its new frames only
    for first, last in windows:
        points = raw[first : last + 1]
        own = np.concatenate([points.min(axis=0), points.max(axis=0)])
        if joined and first == joined[-1][1] + 1:
            union = np.concatenate([np.minimum(box[:2], own[:2]), np.maximum(box[2:], own[2:])])
            if float(np.sum(union[2:] - union[:2])) <= threshold:
                joined[-1], box = (joined[-1][0], last), union
                continue
        if not joined or first > joined[-1][1]:
            joined.append((first, last))
            box = own
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
