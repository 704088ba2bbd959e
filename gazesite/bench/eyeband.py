"""Where the eye band lands on the eyes: the band is fixed fractions of the face box, the eyes are where a renderer drew them.

The calibration reads the eyes through the band (``PipelineSpec.eyes_*``). On
a face whose proportions differ from the faces those fractions were chosen
on, the band slides off the eyes; this measures by how much, on any renderer
that knows its geometry (the projected iris centres are exact).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from gazesite.track.pipeline import PIPELINE, PipelineSpec, process_frame


@dataclass(frozen=True)
class BandOffset:
    """The eyes' midpoint relative to the band's centre, in band widths and heights, and whether both eyes are in it."""

    dx: float
    dy: float
    inside: bool


def band_offset(frame: np.ndarray, rig: Any, target: tuple[float, float], spec: PipelineSpec = PIPELINE) -> BandOffset | None:
    """How far the band the pipeline cuts in this frame sits from the irises the renderer drew (None: no face found)."""
    from gazesite.data.faces.geometry import iris_centres, project

    face = process_frame(frame, spec).face
    if face is None:
        return None
    x, y, w, h = face
    left, right = x + w * spec.eyes_left, x + w * spec.eyes_right
    top, bottom = y + h * spec.eyes_top, y + h * spec.eyes_bottom
    irises = project(rig.camera, iris_centres(rig, target))  # (2, 2) pixels
    mid_x, mid_y = irises.mean(axis=0)
    inside = bool(np.all((irises[:, 0] >= left) & (irises[:, 0] <= right) & (irises[:, 1] >= top) & (irises[:, 1] <= bottom)))
    return BandOffset(float((mid_x - (left + right) / 2) / (right - left)), float((mid_y - (top + bottom) / 2) / (bottom - top)), inside)


def summarize_offsets(offsets: list[BandOffset]) -> dict[str, float] | None:
    """One person's median offsets and the share of frames with both eyes in the band (None: no frame measured)."""
    if not offsets:
        return None
    return {
        "dx": round(statistics.median(o.dx for o in offsets), 3),
        "dy": round(statistics.median(o.dy for o in offsets), 3),
        "inside": round(sum(o.inside for o in offsets) / len(offsets), 3),
    }
