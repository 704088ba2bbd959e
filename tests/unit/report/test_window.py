"""gazesite report on study sessions: the analysis window, face share, fixation minimum, revisits, the heatmap legend.

A study session logs uncalibrated samples after consent, nothing during the
30 s calibration, then a frame with a face in every frame once the page is
shown. Every figure is checked against the plan the samples were generated
from: fixation onsets and durations within one frame interval, positions
within 5 px (3 px of noise per axis).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gazesite.commands import cli
from gazesite.report.documents import session_from_document
from gazesite.report.fixations import Fixation, FixationSettings, detect_fixations, fit_fixations, grid_idt
from gazesite.report.heatmap import HEATMAP_FLOOR, HEATMAP_MAX_OPACITY, opacity
from gazesite.report.model import Samples, Session
from gazesite.report.quality import analysis_window, in_window
from gazesite.report.run import ReportConfig, analyse
from tests.helpers import report_sessions as rs

RATE_HZ = 30.0
#: The longest session a report reads (documents.MAX_SAMPLES_PER_SESSION).
FRAMES = 400_000
FRAME_MS = 1000.0 / RATE_HZ
TOLERANCE_PX = 5.0
#: A, B, A, B, A: three visits to A, two to B.
PLAN = [
    rs.Dwell(rs.POINT_A, 600),
    rs.Saccade(66.7),
    rs.Dwell(rs.POINT_B, 400),
    rs.Saccade(66.7),
    rs.Dwell(rs.POINT_A, 500),
    rs.Saccade(66.7),
    rs.Dwell(rs.POINT_B, 700),
    rs.Saccade(66.7),
    rs.Dwell(rs.POINT_A, 1000),
]


def aoi_file(path: Path) -> Path:
    aois = [{"name": "A", "rect": rs.AOI_A}, {"name": "B", "page": rs.PAGE, "rect": rs.AOI_B}, {"name": "C", "rect": rs.AOI_C}]
    path.write_text(json.dumps({"aois": aois}))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def near(fixation: Fixation, point: tuple[float, float], px: float) -> bool:
    return bool(abs(fixation.x - point[0]) <= px and abs(fixation.y - point[1]) <= px)


@pytest.mark.parametrize("page_start", [True, False], ids=["pageStart", "calibrated-source"])
def test_a_study_session_is_measured_from_the_page_start(tmp_path: Path, page_start: bool) -> None:
    study = rs.study_document(rs.SESSION_A, PLAN, page_start=page_start)
    path = rs.write(tmp_path / "a.json", study.doc)
    report = analyse(ReportConfig(inputs=(path,), out=tmp_path / "out", aoi=aoi_file(tmp_path / "aoi.json")).validate())
    # The window starts when the page was shown (pageStart), or at the first calibrated frame without it.
    window_start = study.shown_ms if page_start else study.first_ms
    (quality,) = report.qualities
    assert quality.window.start_ms == pytest.approx(window_start)
    assert quality.outside == study.before and quality.samples == len(study.doc["samples"]) - study.before
    # A face in every frame while tracking: the 30 s calibration pause is no face lost.
    assert quality.face_share is not None and quality.face_share >= 0.95
    window_end = study.end_ms if page_start else study.end_ms - FRAME_MS  # pageEnd, else the last frame
    assert quality.duration_s == pytest.approx((window_end - window_start) / 1000.0, abs=0.001)

    planned = rs.onsets(PLAN, study.first_ms, RATE_HZ)
    found = report.fixations[rs.SESSION_A]
    assert len(found) == len(planned)
    for fixation, (onset, duration, point) in zip(found, planned, strict=True):
        assert fixation.onset_ms == pytest.approx(onset, abs=FRAME_MS)
        assert fixation.duration_ms == pytest.approx(duration, abs=FRAME_MS)
        assert near(fixation, point, TOLERANCE_PX)
        assert fixation.duration_ms >= FixationSettings().min_duration_ms
    # Nothing from before calibration: no fixation, no AOI figure at C.
    assert not any(near(fixation, rs.POINT_C, 300) for fixation in found)

    by_name = {summary.aoi.name: summary for summary in report.aoi_summaries}
    visits_to = {name: [p for p in planned if p[2] == point] for name, point in (("A", rs.POINT_A), ("B", rs.POINT_B))}
    for name, visits in visits_to.items():
        summary = by_name[name]
        assert summary.looked == 1
        assert summary.ttff_median_ms == pytest.approx(visits[0][0] - window_start, abs=FRAME_MS)
        assert summary.first_fixation_median_ms == pytest.approx(visits[0][1], abs=FRAME_MS)
        assert summary.dwell_total_ms == pytest.approx(sum(v[1] for v in visits), abs=len(visits) * FRAME_MS)
        assert summary.fixations == len(visits)
        assert summary.revisits_total == len(visits) - 1 and summary.revisits_mean == len(visits) - 1
    assert by_name["A"].revisits_total == 2 and by_name["B"].revisits_total == 1
    assert by_name["C"].looked == 0 and by_name["C"].fixations == 0 and by_name["C"].dwell_total_ms == 0.0


def test_the_report_leaves_pre_calibration_samples_out_and_says_so(tmp_path: Path) -> None:
    study = rs.study_document(rs.SESSION_A, PLAN)
    path = rs.write(tmp_path / "a.json", study.doc)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", str(path), "--aoi", str(aoi_file(tmp_path / "aoi.json")), "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "report.json").read_text())
    (page,) = manifest["pages"]
    image = np.asarray(Image.open(out / page["heatmap"]).convert("RGB"), dtype=np.int32)
    scale = page["png_width"] / 1280

    def pixel(point: tuple[float, float]) -> tuple[int, ...]:
        return tuple(image[round(point[1] * scale), round(point[0] * scale)])

    assert pixel(rs.POINT_C) == (250, 250, 250)  # 2 s of pre-calibration gaze there, and not a trace of it
    assert pixel(rs.POINT_A) != (250, 250, 250)
    assert manifest["samples_outside_window"] == study.before
    (row,) = manifest["participants"]
    assert row["participant_id"] == rs.PARTICIPANT_ID and row["window_basis"] == "pageStart"
    assert row["samples_outside_window"] == study.before and row["window_start_ms"] == pytest.approx(study.shown_ms)
    assert {r["participant_id"] for r in read_csv(out / "participants.csv")} == {rs.PARTICIPANT_ID}
    assert {r["participant_id"] for r in read_csv(out / "fixations.csv")} == {rs.PARTICIPANT_ID}
    visits = {r["aoi"]: r for r in read_csv(out / "aoi_participants.csv")}
    assert visits["A"]["revisits"] == "2" and visits["C"]["fixations"] == "0" and visits["C"]["ttff_ms"] == ""
    aoi_rows = {r["aoi"]: r for r in read_csv(out / "aoi.csv")}
    assert aoi_rows["B"]["revisits_total"] == "1" and float(aoi_rows["B"]["first_fixation_median_ms"]) == pytest.approx(400, abs=FRAME_MS)
    html = (out / "index.html").read_text()
    assert f"<code>{rs.PARTICIPANT_ID}</code>" in html
    assert f"{study.before} samples outside the window were left out" in html
    # The legend, and every picture opens full size.
    assert 'src="heatmaps/legend.png"' in html and (out / "heatmaps" / "legend.png").is_file()
    assert "100% = " in html and "ms of gaze per 100 x 100 document px" in html
    for plot in page["gaze_plots"]:
        assert f'<a href="{plot["file"]}"><img class="gazeplot" src="{plot["file"]}"' in html


def test_the_analysis_window_rules() -> None:
    study = rs.study_document(rs.SESSION_A, PLAN)
    session = session_from_document(study.doc, "a.json", "a.json")
    assert session.participant_id == rs.PARTICIPANT_ID
    window = analysis_window(session)
    assert (window.start_ms, window.end_ms, window.basis) == (study.shown_ms, study.end_ms, "pageStart")
    # pageEnd cuts the end too.
    early = session_from_document(dict(study.doc, pageEnd=study.first_ms + 1000.0), "a.json", "a.json")
    cut, outside = in_window(early, analysis_window(early))
    assert cut.samples.t.max() <= study.first_ms + 1000.0 and outside > study.before
    # No pageStart: the first calibrated sample; no calibrated sample either: every sample counts.
    bare = {key: value for key, value in study.doc.items() if key not in ("pageStart", "pageEnd")}
    window = analysis_window(session_from_document(bare, "a.json", "a.json"))
    assert (window.start_ms, window.end_ms, window.basis) == (study.first_ms, None, "calibrated")
    model_only = dict(bare, samples=[dict(sample, source="model") for sample in bare["samples"]])
    session = session_from_document(model_only, "a.json", "a.json")
    window = analysis_window(session)
    assert (window.start_ms, window.basis) == (None, "all") and in_window(session, window)[1] == 0


def test_a_session_with_no_samples_in_its_window_is_excluded_with_the_reason(tmp_path: Path) -> None:
    study = rs.study_document(rs.SESSION_A, PLAN)
    doc = dict(study.doc, samples=study.doc["samples"][: study.before])  # the participant left during calibration
    report = analyse(ReportConfig(inputs=(rs.write(tmp_path / "a.json", doc),), out=tmp_path / "out").validate())
    (quality,) = report.qualities
    assert not quality.included and quality.reason == f"no samples in the analysis window ({study.before} outside it)"


def _jumpy_session(seed: int, frames: int = 3000) -> Session:
    """Webcam-like raw points: dwells with heavy jitter and stray frames far off, at 30 Hz with uneven frame times."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(25.0, 42.0, frames)).round(1)
    centres = np.repeat(rng.uniform(0, 1000, (frames // 10 + 1, 2)), rng.integers(3, 20, frames // 10 + 1), axis=0)[:frames]
    centres = np.vstack([centres, np.repeat(centres[-1:], frames - len(centres), axis=0)])
    raw = centres + rng.normal(0, 25.0, (frames, 2))
    stray = rng.random(frames) < 0.05
    raw[stray] += rng.uniform(-400, 400, (int(stray.sum()), 2))
    nan = np.full((frames, 2), np.nan)
    page = np.array(["viewport"] * frames, dtype=object)
    samples = Samples(t, raw, raw, nan, np.tile([1280.0, 800.0], (frames, 1)), np.zeros((frames, 2)), page, np.full(frames, None))
    return Session("jumpy", ["jumpy"], 1, "frame", samples)


@pytest.mark.parametrize("minimum", [60, 100, 200])
def test_no_fixation_is_shorter_than_the_minimum(minimum: int) -> None:
    settings = FixationSettings(min_duration_ms=minimum)
    for seed in range(3):
        session = _jumpy_session(seed)
        found = detect_fixations(session, settings)
        assert found, "the data must hold fixations for the test to mean something"
        interval = float(np.median(np.diff(session.samples.t)))
        t, raw = session.samples.t, session.samples.raw
        for fixation in found:
            assert fixation.duration_ms >= minimum
            frames = (t >= fixation.onset_ms) & (t <= fixation.onset_ms + fixation.duration_ms - interval + 1e-6)
            spread = raw[frames].max(axis=0) - raw[frames].min(axis=0)
            assert spread.sum() <= settings.dispersion_px + 1e-9


def _brute_force(
    t: np.ndarray, raw: np.ndarray, first: int, last: int, settings: FixationSettings, interval: float
) -> list[tuple[int, int]]:
    """I-DT from frame first, starts up to last, measuring every run's dispersion afresh (the definition, quadratic)."""
    found, start = [], first
    while start <= last:
        end = start
        while end < len(t) - 1 and np.sum(np.ptp(raw[start : end + 2], axis=0)) <= settings.dispersion_px:
            end += 1
        if t[end] - t[start] + interval >= settings.min_duration_ms - 1e-6:
            found.append((start, end))
            start = end + 1
        else:
            start += 1
    return found


def test_fit_fixations_gives_the_brute_force_windows() -> None:
    rng = np.random.default_rng(7)
    for trial in range(60):
        frames = int(rng.integers(1, 400))
        t = np.cumsum(rng.uniform(10.0, 50.0, frames))
        raw = np.cumsum(rng.normal(0, rng.uniform(5, 80), (frames, 2)), axis=0) + rng.normal(0, 20, (frames, 2))
        if trial % 3 == 0:
            raw = raw.round(-1)  # ties between extremes
        settings = FixationSettings(dispersion_px=float(rng.uniform(20, 300)), min_duration_ms=int(rng.integers(2, 30)) * 10)
        first = int(rng.integers(0, frames))
        last = int(rng.integers(first, frames))
        interval = float(np.median(np.diff(t))) if frames > 1 else 33.0
        expected = _brute_force(t, raw, first, last, settings, interval)
        got = fit_fixations(t.tolist(), raw[:, 0].tolist(), raw[:, 1].tolist(), first, last, settings, interval)
        assert got == expected, trial


def test_the_heatmap_is_transparent_below_its_floor() -> None:
    values = np.array([0.0, HEATMAP_FLOOR / 2, HEATMAP_FLOOR, HEATMAP_FLOOR + 1e-3, 0.5, 1.0])
    alpha = opacity(values)
    assert alpha[:3].tolist() == [0.0, 0.0, 0.0]
    assert 0 < alpha[3] < 0.02 and alpha[4] < alpha[5] == pytest.approx(HEATMAP_MAX_OPACITY)
    assert np.all(np.diff(alpha) >= 0)


def _plan_session(plan: list[Any], rate_hz: float, seed: int) -> Session:
    """A frame-mode session straight from the plan's frames (no JSON round trip: 400,000 frames)."""
    frames = np.array(rs.frames(plan, rate_hz=rate_hz, noise_px=3.0, seed=seed, start_ms=0.0))
    count = len(frames)
    t, raw = frames[:, 0], frames[:, 1:]
    nan = np.full((count, 2), np.nan)
    page = np.full(count, "viewport", dtype=object)
    samples = Samples(t, raw, raw, nan, np.tile([1280.0, 800.0], (count, 1)), np.zeros((count, 2)), page, np.full(count, None))
    return Session("long", ["long"], 1, "frame", samples)


@pytest.mark.slow
def test_fixations_of_a_400000_frame_session() -> None:
    """400,000 frames at 30 Hz (3.7 hours) of planned dwells: every planned fixation, in linear time."""
    rng = np.random.default_rng(3)
    plan: list[Any] = []
    total = 0
    while True:
        # Dwells of 6 to 29 frames, one saccade frame between; neighbours lie far apart (more than the dispersion).
        point = (float(rng.uniform(100, 1200)) + (2000.0 if len(plan) % 4 else 0.0), float(rng.uniform(100, 1200)))
        count = int(rng.integers(6, 30))
        if FRAMES - total - count - 1 < 6:
            plan.append(rs.Dwell(point, (FRAMES - total) * FRAME_MS))
            break
        plan += [rs.Dwell(point, count * FRAME_MS), rs.Saccade(FRAME_MS)]
        total += count + 1
    session = _plan_session(plan, RATE_HZ, seed=5)
    assert len(session.samples) == FRAMES
    # The median of 6 or more frames, over 20,000 fixations: 3 px noise can reach 5.
    _planned_fixations_in_time(plan, session, "dwells of 6 to 29 frames", px=10.0)


def _planned_fixations_in_time(plan: list[Any], session: Session, label: str, px: float) -> None:
    """Every planned fixation of the session, found in under 30 s (the figure itself is the printed one)."""
    detect_fixations(_plan_session(plan[:1], RATE_HZ, seed=1), FixationSettings())  # warm up, not timed
    began = time.perf_counter()
    found = detect_fixations(session, FixationSettings())
    seconds = time.perf_counter() - began
    print(f"\n{len(session.samples):,} frames ({label}): {len(found):,} fixations in {seconds:.1f} s")
    planned = rs.onsets(plan, 0.0, RATE_HZ)
    assert len(found) == len(planned)
    for fixation, (onset, duration, point) in zip(found, planned, strict=True):
        assert fixation.onset_ms == pytest.approx(onset, abs=FRAME_MS)
        assert fixation.duration_ms == pytest.approx(duration, abs=FRAME_MS)
        assert near(fixation, point, px)
    assert seconds < 30  # I-DT that re-measures a growing window would take minutes to hours


@pytest.mark.slow
@pytest.mark.parametrize("dwell_frames", [300, 40_000], ids=["10s-dwells", "one-40000-frame-dwell"])
def test_long_dwells_take_linear_time(dwell_frames: int) -> None:
    """Steady dwells (3 px of noise) as long as a session allows: the cost grows with frames, not with a dwell's square."""
    total = FRAMES if dwell_frames < FRAMES // 10 else dwell_frames
    plan: list[Any] = []
    left = total
    while left > 0:
        # Neighbours lie far apart (more than the dispersion), one saccade frame between.
        point = (200.0 + (1500.0 if len(plan) % 4 else 0.0), 300.0 + 10.0 * (len(plan) % 50))
        count = min(dwell_frames, left)
        plan.append(rs.Dwell(point, count * FRAME_MS))
        left -= count
        if left > 0:
            plan.append(rs.Saccade(FRAME_MS))
            left -= 1
    session = _plan_session(plan, RATE_HZ, seed=11)
    assert len(session.samples) == total
    _planned_fixations_in_time(plan, session, f"dwells of {dwell_frames:,} frames", px=5.0)


def _random_grid_run(rng: np.random.Generator, kind: int, count: int) -> np.ndarray:
    """Points (count, 2), NaN-free: a random walk with jumps, steady dwells, or jitter rounded to ties."""
    if kind == 0:  # a random walk with jumps
        points = np.cumsum(rng.normal(0, rng.uniform(1, 40), (count, 2)), axis=0)
        jumps = rng.random(count) < 0.05
        points[jumps] += rng.uniform(-400, 400, (int(jumps.sum()), 2))
        return points
    if kind == 1:  # steady dwells of random lengths, some of them longer than the whole run
        centres = np.repeat(rng.uniform(0, 1000, (count // 3 + 1, 2)), rng.integers(1, 80, count // 3 + 1), axis=0)[:count]
        centres = np.vstack([centres, np.repeat(centres[-1:], count - len(centres), axis=0)])
        return centres + rng.normal(0, rng.uniform(0, 30), (count, 2))
    # short runs of jittery points rounded to tens: ties between extremes, dispersions exactly at the threshold
    return rng.normal(0, 20, (count, 2)).round(-1)


def test_grid_idt_gives_pymovements_idt_events() -> None:
    from pymovements.events import idt

    rng = np.random.default_rng(11)
    step = 10
    for trial in range(400):
        kind = trial % 3
        minimum = int(rng.integers(2, 15))
        # Runs near the minimum (fewer points than it, exactly it, a few more) and longer ones.
        count = int(rng.integers(minimum - 1, minimum + 4)) if trial % 4 == 0 else int(rng.integers(minimum, 700))
        count = max(count, 2)
        points = _random_grid_run(rng, kind, count)
        threshold = float(rng.choice([rng.uniform(5, 300), 20.0, 40.0, 100.0]))
        onsets, offsets = grid_idt(points, minimum, threshold)
        events = idt(points, timesteps=np.arange(count) * step, minimum_duration=minimum * step, dispersion_threshold=threshold).frame
        expected = (events["onset"].to_list(), events["offset"].to_list())
        assert ((onsets * step).tolist(), (offsets * step).tolist()) == expected, trial
