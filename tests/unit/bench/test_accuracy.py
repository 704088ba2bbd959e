"""The accuracy bench's yardsticks: the screen-centre baseline and errors in degrees of visual angle."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gazesite.bench.accuracy import (
    TEST_FRAMES,
    TEST_TARGETS,
    centre_baseline,
    held_out_degrees,
    held_out_error,
    held_out_targets,
    person_frames,
    visual_angle_deg,
)
from gazesite.bench.accuracy_tables import format_accuracy, summary_table
from gazesite.data import faces
from gazesite.data.faces.geometry import Screen


def test_the_centre_baseline_is_what_answering_the_centre_scores() -> None:
    targets = held_out_targets()
    assert len(targets) == TEST_TARGETS and len(set(targets)) == TEST_TARGETS
    test = [(i, t) for i, t in enumerate(targets)]
    centre_every_time = [{"gaze": (0.5, 0.5)} for _ in targets]
    error, seen = held_out_error(centre_every_time, test, "gaze")
    assert seen == TEST_TARGETS and error == pytest.approx(centre_baseline())
    # A tracker answering a corner does far worse; the targets spread over the screen, not around its centre.
    corner, _ = held_out_error([{"gaze": (0.0, 0.0)} for _ in targets], test, "gaze")
    assert corner > centre_baseline() + 0.2 > 0.2


def test_visual_angle_is_measured_at_the_eyes() -> None:
    screen = Screen(0.6, 0.3)
    eyes = np.array([0.0, 0.0, -0.6])
    assert visual_angle_deg(eyes, screen, (0.5, 0.5), (0.5, 0.5)) == pytest.approx(0.0, abs=1e-6)
    # 0.1 of a 0.6 m screen is 6 cm to the side at 60 cm straight ahead: atan(0.1).
    assert visual_angle_deg(eyes, screen, (0.5, 0.5), (0.6, 0.5)) == pytest.approx(math.degrees(math.atan(0.1)))
    # The same screen error far off to the side, seen obliquely, spans a smaller angle.
    assert visual_angle_deg(eyes, screen, (0.9, 0.5), (1.0, 0.5)) < visual_angle_deg(eyes, screen, (0.5, 0.5), (0.6, 0.5))
    # Nearer eyes see the same error larger.
    assert visual_angle_deg(np.array([0.0, 0.0, -0.3]), screen, (0.5, 0.5), (0.6, 0.5)) > 10.0


def test_degrees_come_from_each_frames_own_geometry_and_only_where_there_is_one() -> None:
    (person,) = faces.unseen_people("vector", 1)
    frames = person_frames("vector", person, (5,), 1)
    assert len(frames.test) == len(frames.test_geometry) == TEST_TARGETS * TEST_FRAMES
    exact = [{"calibrated": target} for _, target in frames.test]
    assert held_out_degrees(exact, frames, "calibrated") == pytest.approx(0.0, abs=1e-6)
    off = [{"calibrated": (target[0] + 0.1, target[1])} for _, target in frames.test]
    degrees = held_out_degrees(off, frames, "calibrated")
    eyes, screen = frames.test_geometry[0]
    straight = math.degrees(math.atan(0.1 * screen.width / abs(eyes[2])))
    assert degrees is not None and 0.5 * straight < degrees < 1.2 * straight
    # Frames without a prediction are left out, not counted as perfect.
    assert held_out_degrees([{"calibrated": None} for _ in frames.test], frames, "calibrated") is None

    (flat,) = faces.unseen_people("cartoon", 1)
    cartoon = person_frames("cartoon", flat, (5,), 1)
    assert cartoon.test_geometry == [] and held_out_degrees(exact, cartoon, "calibrated") is None


def _run(before: float, after: float, degrees: float | None) -> dict[str, object]:
    return {"before": before, "after": after, "before_deg": degrees, "after_deg": degrees, "method": "affine"}


def test_the_tables_show_the_centre_and_degrees_where_known() -> None:
    report: dict[str, Any] = {
        "people": 2,
        "points": [9],
        "centre": 0.305,
        "frames_per_dot": 27,
        "held_out_targets": TEST_TARGETS,
        "held_out_frames": TEST_FRAMES,
        "renderers": {
            "cartoon": [{"person": 0, "gazesite": {"9": _run(0.2, 0.05, None)}}, {"person": 1, "gazesite": {"9": _run(0.4, 0.1, None)}}],
            "raycast": [{"person": 0, "gazesite": {"9": _run(0.3, 0.05, 2.5)}}, {"person": 1, "gazesite": {"9": _run(0.31, 0.07, 3.5)}}],
        },
    }
    report["summary"] = summary_table(report)
    assert report["summary"]["cartoon"]["9"]["before_below_centre"] == 1
    assert report["summary"]["raycast"]["9"]["before_below_centre"] == 1
    assert "after_deg" not in report["summary"]["cartoon"]["9"]
    assert report["summary"]["raycast"]["9"]["after_deg"] == {"median": 3.0, "worst": 3.5, "mean": 3.0}
    table = format_accuracy(report)
    assert "screen centre (a tracker that learnt nothing): 0.305" in table
    raycast_line = next(line for line in table.splitlines() if line.startswith("raycast") and "affine 2" in line)
    assert "1/2" in raycast_line and "3.00" in raycast_line and "3.50" in raycast_line
    cartoon_line = next(line for line in table.splitlines() if line.startswith("cartoon") and "affine 2" in line)
    assert " - " in cartoon_line
