"""Data quality per participant, the analysis window, and the exclusions ``--max-error`` / ``--min-face`` make.

The analysis window (``analysis_window``, the one place these rules live; also
in the docs, guides/report.md "Analysis window"): a study page logs no samples while the
calibration runs (the calibrator owns the camera), and samples logged before
it are uncalibrated, so the report analyses each session from when the page
was shown after calibration:

- start: the document's ``pageStart`` (ms, the samples' clock) when given;
  else the first sample whose ``source`` is "calibrated" when there is one;
  else the first sample (every sample counts);
- end: the document's ``pageEnd`` when given, else the last sample;
- samples outside [start, end] are left out of everything the report
  measures (quality, heatmaps, fixations, AOIs) and counted per participant.

Definitions, over the samples inside the window:

- frame interval: the median time between consecutive logged samples. The page
  logs one sample per camera frame with a face, so while a face is seen this is
  the camera's frame interval; a face-lost gap is one long interval and barely
  moves the median.
- sample rate: 1000 / frame interval, in Hz.
- duration: the window's span, from its start (``pageStart``, else its first
  sample) to its end (``pageEnd``, else its last sample), in s.
- face share: logged samples / frames expected in that span at the sample rate
  (span / frame interval + 1), at most 1. Frames without a face are not logged,
  so this is the share of tracking time with a face; the calibration pause is
  outside the window and never counts as face lost. Without ``pageStart`` and
  ``pageEnd``, time before the first or after the last face is not visible in
  the log and not counted.
- calibration error: the page's calibration check error (screen fractions), or
  none when the session recorded no check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from gazesite.report.model import Session

#: Where an analysis window starts, as the report names it: the document's pageStart, the first calibrated sample, or
#: the first sample of all.
WINDOW_BASES = ("pageStart", "calibrated", "all")


@dataclass(frozen=True)
class Window:
    """The part of a session the report analyses: samples with start <= t <= end, in ms (None: not bounded)."""

    start_ms: float | None
    end_ms: float | None
    basis: str  # one of WINDOW_BASES

    def contains(self, t: np.ndarray) -> np.ndarray:
        """A boolean mask of the times inside the window."""
        inside = np.ones(len(t), dtype=bool)
        if self.start_ms is not None:
            inside &= t >= self.start_ms
        if self.end_ms is not None:
            inside &= t <= self.end_ms
        return inside


def analysis_window(session: Session) -> Window:
    """The session's analysis window: from pageStart, else its first calibrated sample, else its first sample; to pageEnd."""
    if session.page_start is not None:
        return Window(session.page_start, session.page_end, "pageStart")
    if session.calibrated_from is not None:
        return Window(session.calibrated_from, session.page_end, "calibrated")
    return Window(None, session.page_end, "all")


def in_window(session: Session, window: Window) -> tuple[Session, int]:
    """The session with only its samples inside the window, and how many were left out."""
    inside = window.contains(session.samples.t)
    outside = int(len(inside) - inside.sum())
    return (replace(session, samples=session.samples.take(inside)) if outside else session), outside


@dataclass
class Quality:
    """One participant's data quality (inside the analysis window) and whether the report keeps them."""

    participant: str
    samples: int
    duration_s: float | None
    sample_rate_hz: float | None
    face_share: float | None
    calibration_error: float | None
    included: bool = True
    reason: str = ""
    outside: int = 0  # samples left out: before the window's start or after its end
    window: Window = Window(None, None, "all")

    @property
    def frame_interval_ms(self) -> float | None:
        """The median time between frames, or None with fewer than two samples."""
        return 1000.0 / self.sample_rate_hz if self.sample_rate_hz else None


def frame_interval(t: np.ndarray) -> float | None:
    """Return the median interval between consecutive sample times in ms, or None with fewer than two samples."""
    steps = np.diff(t)
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else None


def assess(session: Session, window: Window | None = None, outside: int = 0) -> Quality:
    """Measure one participant's data quality on ``session``'s samples, already cut to ``window`` (``outside``: left out)."""
    window = window or Window(None, None, "all")
    t = session.samples.t
    interval = frame_interval(t)
    if interval is None:
        return Quality(session.participant, len(t), None, None, None, session.calibration_error, outside=outside, window=window)
    start = window.start_ms if window.start_ms is not None else float(t[0])
    end = window.end_ms if window.end_ms is not None else float(t[-1])
    span = max(end - start, float(t[-1] - t[0]))
    expected = span / interval + 1.0
    return Quality(
        participant=session.participant,
        samples=len(t),
        duration_s=span / 1000.0,
        sample_rate_hz=1000.0 / interval,
        face_share=min(1.0, len(t) / expected),
        calibration_error=session.calibration_error,
        outside=outside,
        window=window,
    )


def apply_exclusions(qualities: list[Quality], max_error: float | None, min_face: float | None) -> None:
    """Mark participants whose data fails a bound as excluded, with the reason (every failed bound is named)."""
    for quality in qualities:
        reasons = []
        if quality.samples == 0:
            reasons.append(f"no samples in the analysis window ({quality.outside} outside it)" if quality.outside else "no samples")
        if max_error is not None:
            if quality.calibration_error is None:
                reasons.append("no calibration check recorded (--max-error needs one)")
            elif quality.calibration_error > max_error:
                reasons.append(f"calibration error {quality.calibration_error:.3f} > --max-error {max_error:g}")
        if min_face is not None:
            if quality.face_share is None:
                reasons.append("too few samples to measure the face share (--min-face needs two)")
            elif quality.face_share < min_face and not math.isclose(quality.face_share, min_face):
                reasons.append(f"face share {quality.face_share:.3f} < --min-face {min_face:g}")
        quality.included = not reasons
        quality.reason = "; ".join(reasons)
