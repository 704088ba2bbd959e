"""Synthetic gaze sessions whose fixations and dwell times are known exactly, as samples v2 documents and CSV.

A plan is a list of steps: ``Dwell(point, ms)`` holds the gaze on a point (in
document px) with small noise; ``Saccade(ms)`` moves it in a straight line to
the next dwell's point; ``Lost(ms)`` logs no frames (the face was lost).
Frames come at a fixed rate, so a dwell of D ms is D / interval frames.

``study_document`` lays a session out as a study page records it: uncalibrated
samples after consent, a calibration pause that logs nothing, then the page
shown (``pageStart``) and tracked frame by frame.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SESSION_A = "participant-aaaaaaaaaaaa"
SESSION_B = "participant-bbbbbbbbbbbb"
SESSION_C = "participant-cccccccccccc"
PAGE = "snapshot-1280"
POINT_A = (300.0, 1400.0)  # document px
POINT_B = (900.0, 1700.0)
POINT_C = (1100.0, 2700.0)  # where only uncalibrated, pre-calibration gaze looks
SCROLL_Y = 1200.0  # the document is scrolled, so viewport y = document y - 1200
AOI_A = [200, 1300, 200, 200]
AOI_B = [800, 1600, 200, 200]
AOI_C = [1000, 2600, 200, 200]
PARTICIPANT_ID = "5f8e2a7c9b1d3e4f6a7b8c9d"  # a Prolific-style id


@dataclass(frozen=True)
class Dwell:
    point: tuple[float, float]
    ms: float


@dataclass(frozen=True)
class Saccade:
    ms: float


@dataclass(frozen=True)
class Lost:
    ms: float


def frames(
    plan: list[Any], rate_hz: float = 50.0, noise_px: float = 3.0, seed: int = 0, start_ms: float = 1500.0
) -> list[tuple[float, float, float]]:
    """Return (t, x, y) of every logged frame of the plan (document px, noise added)."""
    rng = np.random.default_rng(seed)
    step = 1000.0 / rate_hz
    out: list[tuple[float, float, float]] = []
    t = start_ms
    for index, item in enumerate(plan):
        count = round(item.ms / step)
        if isinstance(item, Dwell):
            for _ in range(count):
                noise = rng.normal(0.0, noise_px, 2)
                out.append((t, item.point[0] + noise[0], item.point[1] + noise[1]))
                t += step
        elif isinstance(item, Saccade):
            before = next(p.point for p in reversed(plan[:index]) if isinstance(p, Dwell))
            after = next(p.point for p in plan[index + 1 :] if isinstance(p, Dwell))
            for k in range(1, count + 1):
                share = k / (count + 1)
                out.append((t, before[0] + share * (after[0] - before[0]), before[1] + share * (after[1] - before[1])))
                t += step
        else:
            t += count * step
    return out


def document(
    session: str,
    plan: list[Any],
    calibration_error: float | None = 0.05,
    rate_hz: float = 50.0,
    seed: int = 0,
    page: str = PAGE,
    image: str | None = None,
    noise_px: float = 3.0,
    start_ms: float = 1500.0,
    source: str = "calibrated",
) -> dict[str, Any]:
    """A samples v2 document (snapshot mode) for the plan; the smoothed point lags the raw one."""
    logged = frames(plan, rate_hz=rate_hz, noise_px=noise_px, seed=seed, start_ms=start_ms)
    raw = np.array([[x, y - SCROLL_Y] for _, x, y in logged]).reshape(-1, 2)
    smoothed = np.array([raw[max(0, i - 4) : i + 1].mean(axis=0) for i in range(len(raw))]).reshape(-1, 2)
    samples = [
        {
            "t": round(t, 1),
            "x": round(float(sx), 3),
            "y": round(float(sy), 3),
            "viewport": [1280, 800],
            "scroll": [0, SCROLL_Y],
            "dpr": 1,
            "face": [100, 60, 110, 110],
            "source": source,
            "raw": [round(float(rx), 3), round(float(ry), 3)],
            "doc": [round(float(sx), 3), round(float(sy + SCROLL_Y), 3)],
            "page": page,
            "element": None,
        }
        for (t, _, _), (sx, sy), (rx, ry) in zip(logged, smoothed, raw, strict=True)
    ]
    calibration = None if calibration_error is None else {"method": "ridge", "checkError": calibration_error, "rawError": 0.2, "points": 9}
    return {
        "format": "gazesite-samples",
        "version": 2,
        "target": "https://example.com/",
        "created": "2026-01-01T00:00:00.000Z",
        "started": "2026-01-01T00:00:00.000Z",
        "mode": "snapshot",
        "session": session,
        "study": "test",
        "screen": [1280, 800],
        "calibration": calibration,
        "pages": [{"id": page, "width": 1280, "height": 3000, "image": image}],
        "samples": samples,
    }


def to_csv(doc: dict[str, Any]) -> str:
    """The same samples as the page's v2 CSV."""
    columns = (
        "t,x,y,viewport_width,viewport_height,face_x,face_y,face_w,face_h,scroll_x,scroll_y,dpr,source,raw_x,raw_y,doc_x,doc_y,page,element"
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write(columns + "\n")
    for s in doc["samples"]:
        doc_xy = s["doc"] or ["", ""]
        writer.writerow(
            [
                s["t"],
                s["x"],
                s["y"],
                *s["viewport"],
                *s["face"],
                *s["scroll"],
                s["dpr"],
                s["source"],
                *s["raw"],
                *doc_xy,
                s["page"] or "",
                s["element"] or "",
            ]
        )
    return out.getvalue()


def write(path: Path, doc: dict[str, Any]) -> Path:
    """Write a document as JSON the way the page does (pretty-printed)."""
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def a_then_b(a_ms: float = 600.0, b_ms: float = 400.0, saccade_ms: float = 40.0) -> list[Any]:
    """The reference plan: dwell at A, saccade, dwell at B."""
    return [Dwell(POINT_A, a_ms), Saccade(saccade_ms), Dwell(POINT_B, b_ms)]


@dataclass(frozen=True)
class Study:
    """A study session's document and the times its plan was laid out at (ms, the samples' clock)."""

    doc: dict[str, Any]
    shown_ms: float  # the page first shown after calibration (pageStart)
    first_ms: float  # the first frame logged on the page (the face found again)
    end_ms: float  # the participant finished (pageEnd)
    before: int  # samples logged before calibration


def study_document(
    session: str,
    plan: list[Any],
    before: list[Any] | None = None,
    calibration_ms: float = 30_000.0,
    latency_ms: float = 100.0,
    rate_hz: float = 30.0,
    noise_px: float = 3.0,
    seed: int = 0,
    page_start: bool = True,
) -> Study:
    """A study session: ``before`` (default 2 s at POINT_C) uncalibrated, ``calibration_ms`` with no samples, the page
    shown, ``latency_ms`` until the first frame, then ``plan`` with a face in every frame.

    ``page_start``: the document carries pageStart and pageEnd (a study page that records them); else only the
    samples' ``source`` tells calibrated from not.
    """
    step = 1000.0 / rate_hz
    early = document(session, before or [Dwell(POINT_C, 2000)], rate_hz=rate_hz, seed=seed + 1, source="model")
    shown = early["samples"][-1]["t"] + step + calibration_ms
    doc = document(session, plan, rate_hz=rate_hz, noise_px=noise_px, seed=seed, start_ms=shown + latency_ms)
    first, end = doc["samples"][0]["t"], doc["samples"][-1]["t"] + step
    doc["samples"] = early["samples"] + doc["samples"]
    doc["participant"] = PARTICIPANT_ID
    if page_start:
        doc["pageStart"], doc["pageEnd"] = shown, end
    return Study(doc, shown, first, end, len(early["samples"]))


def onsets(plan: list[Any], start_ms: float, rate_hz: float) -> list[tuple[float, float, tuple[float, float]]]:
    """The planned (onset ms, duration ms, point) of every dwell, frames as ``frames`` lays them out from ``start_ms``."""
    step = 1000.0 / rate_hz
    t, planned = start_ms, []
    for item in plan:
        count = round(item.ms / step)
        if isinstance(item, Dwell):
            planned.append((t, count * step, item.point))
        t += count * step
    return planned
