"""Data quality per participant, and the exclusions ``--max-error`` / ``--min-face`` make.

Definitions (also in the README, "gazesite report"):

- frame interval: the median time between consecutive logged samples. The page
  logs one sample per camera frame with a face, so while a face is seen this is
  the camera's frame interval; a face-lost gap is one long interval and barely
  moves the median.
- sample rate: 1000 / frame interval, in Hz.
- duration: from the first to the last logged sample, in s.
- face share: logged samples / frames expected in that span at the sample rate
  (span / frame interval + 1), at most 1. Frames without a face are not logged,
  so this is the share of frames with a face; time before the first or after
  the last face is not visible in the log and not counted.
- calibration error: the page's calibration check error (screen fractions), or
  none when the session recorded no check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gazesite.report.model import Session


@dataclass
class Quality:
    """One participant's data quality and whether the report keeps them."""

    participant: str
    samples: int
    duration_s: float | None
    sample_rate_hz: float | None
    face_share: float | None
    calibration_error: float | None
    included: bool = True
    reason: str = ""

    @property
    def frame_interval_ms(self) -> float | None:
        """The median time between frames, or None with fewer than two samples."""
        return 1000.0 / self.sample_rate_hz if self.sample_rate_hz else None


def frame_interval(t: np.ndarray) -> float | None:
    """Return the median interval between consecutive sample times in ms, or None with fewer than two samples."""
    steps = np.diff(t)
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else None


def assess(session: Session) -> Quality:
    """Measure one participant's data quality."""
    t = session.samples.t
    interval = frame_interval(t)
    if interval is None:
        return Quality(session.participant, len(t), None, None, None, session.calibration_error)
    span = float(t[-1] - t[0])
    expected = span / interval + 1.0
    return Quality(
        participant=session.participant,
        samples=len(t),
        duration_s=span / 1000.0,
        sample_rate_hz=1000.0 / interval,
        face_share=min(1.0, len(t) / expected),
        calibration_error=session.calibration_error,
    )


def apply_exclusions(qualities: list[Quality], max_error: float | None, min_face: float | None) -> None:
    """Mark participants whose data fails a bound as excluded, with the reason (every failed bound is named)."""
    for quality in qualities:
        reasons = []
        if quality.samples == 0:
            reasons.append("no samples")
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
