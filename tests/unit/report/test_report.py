"""gazesite report on synthetic sessions whose fixations, dwell times and data quality are known exactly.

Frames come at 50 Hz (20 ms apart), so a dwell of 600 ms is exactly 30 frames.
Tolerance: fixation onsets, durations, dwell times and times to first
fixation within one frame interval (20 ms) of the plan; fixation positions
within 5 px of the planned point (the noise is 3 px per axis).
"""

from __future__ import annotations

import csv
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gazesite.commands import cli
from gazesite.report.documents import session_from_document
from gazesite.report.fixations import FixationSettings, detect_fixations, display_scale, doc_points
from gazesite.report.model import VIEWPORT_PAGE
from gazesite.report.read import read_sample_file
from gazesite.report.run import ReportConfig, analyse
from tests.helpers import report_sessions as rs

TOLERANCE_MS = 20.0
TOLERANCE_PX = 5.0


def run(*args: str | Path) -> tuple[int, str, str]:
    """Run ``gazesite report`` in-process; return exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, ["report", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def aoi_file(path: Path, *aois: dict) -> Path:
    path.write_text(json.dumps({"aois": list(aois)}))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_fixations_of_a_dwell_a_saccade_and_a_dwell() -> None:
    session = session_from_document(rs.document(rs.SESSION_A, rs.a_then_b()), "a.json", "a.json")
    found = detect_fixations(session, FixationSettings())
    assert len(found) == 2
    first, second = found
    assert first.onset_ms == pytest.approx(1500.0, abs=TOLERANCE_MS)
    assert first.duration_ms == pytest.approx(600.0, abs=TOLERANCE_MS)
    assert second.onset_ms == pytest.approx(1500.0 + 600 + 40, abs=TOLERANCE_MS)
    assert second.duration_ms == pytest.approx(400.0, abs=TOLERANCE_MS)
    # Detected on raw viewport points, reported in document px (the document was scrolled by 1200 px).
    assert (first.x, first.y) == pytest.approx(rs.POINT_A, abs=TOLERANCE_PX)
    assert (second.x, second.y) == pytest.approx(rs.POINT_B, abs=TOLERANCE_PX)
    assert first.page == second.page == rs.PAGE


def test_a_slower_camera_gives_the_same_fixations() -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b(a_ms=600, b_ms=400, saccade_ms=40), rate_hz=25.0)
    found = detect_fixations(session_from_document(doc, "a.json", "a.json"), FixationSettings())
    assert [round(f.duration_ms / 40) * 40 for f in found] == [600, 400]  # 40 ms frames: within one frame


def test_webcam_jitter_at_30_hz() -> None:
    """Raw points jittering by 14 px per axis (a webcam tracker's order) at 30 Hz still give the planned fixations."""
    plan = [
        rs.Dwell(rs.POINT_A, 600),
        rs.Saccade(33.3),
        rs.Dwell(rs.POINT_B, 400),
        rs.Saccade(33.3),
        rs.Dwell(rs.POINT_A, 500),
    ]
    doc = rs.document(rs.SESSION_A, plan, rate_hz=30.0, noise_px=14.0, seed=11)
    found = detect_fixations(session_from_document(doc, "a.json", "a.json"), FixationSettings())
    frame = 1000.0 / 30
    assert [f.duration_ms for f in found] == pytest.approx([600.0, 400.0, 500.0], abs=frame)
    for fixation, point in zip(found, (rs.POINT_A, rs.POINT_B, rs.POINT_A), strict=True):
        assert (fixation.x, fixation.y) == pytest.approx(point, abs=10.0)  # the median of about 15 frames


def test_a_face_lost_gap_splits_the_recording() -> None:
    plan = [rs.Dwell(rs.POINT_A, 600), rs.Lost(500), rs.Dwell(rs.POINT_A, 600)]
    session = session_from_document(rs.document(rs.SESSION_A, plan), "a.json", "a.json")
    found = detect_fixations(session, FixationSettings())
    # Without the split, resampling would bridge the gap and make one 1700 ms fixation.
    assert [f.duration_ms for f in found] == pytest.approx([600.0, 600.0], abs=TOLERANCE_MS)
    assert found[0].run != found[1].run


def test_aoi_dwell_time_and_time_to_first_fixation(tmp_path: Path) -> None:
    rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    aois = aoi_file(tmp_path / "aoi.json", {"name": "A", "page": rs.PAGE, "rect": rs.AOI_A}, {"name": "B", "rect": rs.AOI_B})
    report = analyse(ReportConfig(inputs=(tmp_path / "a.json",), out=tmp_path / "out", aoi=aois).validate())
    by_name = {summary.aoi.name: summary for summary in report.aoi_summaries}
    assert by_name["A"].looked == by_name["B"].looked == 1
    assert by_name["A"].dwell_total_ms == pytest.approx(600.0, abs=TOLERANCE_MS)
    assert by_name["B"].dwell_total_ms == pytest.approx(400.0, abs=TOLERANCE_MS)
    assert by_name["A"].ttff_median_ms == pytest.approx(0.0, abs=TOLERANCE_MS)
    assert by_name["B"].ttff_median_ms == pytest.approx(640.0, abs=TOLERANCE_MS)
    assert by_name["A"].fixations == by_name["B"].fixations == 1


def test_element_aois_in_same_origin_mode(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b(), page="/index.html")
    doc["mode"] = "same-origin"
    for sample in doc["samples"]:  # the hero heading around A, the footer around B
        sample["element"] = "main > section#hero > h1" if sample["doc"][1] < 1550 else "main > footer"
    rs.write(tmp_path / "a.json", doc)
    aois = aoi_file(
        tmp_path / "aoi.json",
        {"name": "hero", "page": "/index.html", "element": "main > section#hero"},
        {"name": "foot", "element": "main > footer"},
        {"name": "elsewhere", "page": "/about.html", "element": "main"},
    )
    report = analyse(ReportConfig(inputs=(tmp_path / "a.json",), out=tmp_path / "out", aoi=aois).validate())
    dwell = {summary.aoi.name: summary.dwell_total_ms for summary in report.aoi_summaries}
    assert dwell["hero"] == pytest.approx(600.0, abs=TOLERANCE_MS)
    assert dwell["foot"] == pytest.approx(400.0, abs=TOLERANCE_MS)
    assert dwell["elsewhere"] == 0.0


def test_a_page_of_unknown_size_is_measured_from_the_samples(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b(), page="/about.html")
    doc["mode"] = "same-origin"
    doc["pages"] = [{"id": "/about.html", "width": None, "height": None, "image": None}]
    report = analyse(ReportConfig(inputs=(rs.write(tmp_path / "a.json", doc),), out=tmp_path / "out").validate())
    (page,) = report.pages
    # The commonest viewport (1280 x 800), grown to hold the deepest point (B at y 1700 plus noise).
    assert page.width == 1280 and page.height == pytest.approx(max(s["doc"][1] for s in doc["samples"]))


def test_exclusion_by_quality(tmp_path: Path) -> None:
    good = rs.write(tmp_path / "good.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    poor_calibration = rs.write(tmp_path / "poor.json", rs.document(rs.SESSION_B, rs.a_then_b(), calibration_error=0.3, seed=1))
    lost = [rs.Dwell(rs.POINT_A, 600), rs.Lost(500), rs.Dwell(rs.POINT_B, 600)]
    face_lost = rs.write(tmp_path / "lost.json", rs.document(rs.SESSION_C, lost, seed=2))
    aois = aoi_file(tmp_path / "aoi.json", {"name": "A", "rect": rs.AOI_A}, {"name": "B", "rect": rs.AOI_B})
    out = tmp_path / "report"
    code, stdout, stderr = run(good, poor_calibration, face_lost, "--aoi", aois, "--max-error", "0.2", "--min-face", "0.8", "--out", out)
    assert code == 0, stderr
    assert "3 participants (1 included)" in stdout
    rows = {row["id"]: row for row in read_csv(out / "participants.csv")}
    assert rows[rs.SESSION_A]["included"] == "True" and rows[rs.SESSION_A]["reason"] == ""
    assert rows[rs.SESSION_B]["included"] == "False"
    assert rows[rs.SESSION_B]["reason"] == "calibration error 0.300 > --max-error 0.2"
    # 60 frames logged of the 85 that 20 ms frames from the first (0 ms) to the last (1680 ms) make.
    assert float(rows[rs.SESSION_C]["face_share"]) == pytest.approx(60 / 85, abs=1e-4)
    assert rows[rs.SESSION_C]["reason"] == "face share 0.706 < --min-face 0.8"
    assert rows[rs.SESSION_A]["samples"] == "52" and rows[rs.SESSION_C]["samples"] == "60"
    assert float(rows[rs.SESSION_A]["sample_rate_hz"]) == pytest.approx(50.0)
    assert float(rows[rs.SESSION_A]["duration_s"]) == pytest.approx(1.02)
    # Only the included participant counts in the AOI measures.
    aoi_rows = {row["aoi"]: row for row in read_csv(out / "aoi.csv")}
    assert aoi_rows["A"]["participants"] == "1" and aoi_rows["A"]["looked"] == "1"
    assert float(aoi_rows["A"]["dwell_total_ms"]) == pytest.approx(600.0, abs=TOLERANCE_MS)
    html = (out / "index.html").read_text()
    assert "calibration error 0.300 &gt; --max-error 0.2" in html and "face share 0.706 &lt; --min-face 0.8" in html


def test_a_participant_without_a_calibration_check_fails_max_error(tmp_path: Path) -> None:
    path = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b(), calibration_error=None))
    report = analyse(ReportConfig(inputs=(path,), out=tmp_path / "out", max_error=0.5).validate())
    assert not report.qualities[0].included
    assert "no calibration check recorded" in report.qualities[0].reason
    assert report.fixations == {} and report.pages == []


def test_csv_and_version_1_inputs(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b())
    (tmp_path / "a.csv").write_text(rs.to_csv(doc))
    from_json = detect_fixations(session_from_document(doc, "a.json", "a.json"), FixationSettings())
    from_csv = detect_fixations(read_sample_file(tmp_path / "a.csv"), FixationSettings())
    assert [(f.onset_ms, f.duration_ms, f.x, f.y) for f in from_csv] == pytest.approx(
        [(f.onset_ms, f.duration_ms, f.x, f.y) for f in from_json]
    )
    # Version 1: only the (smoothed) viewport point; it becomes the raw point on the "viewport" page.
    v1 = {key: doc[key] for key in ("format", "target", "created", "started")} | {"version": 1}
    v1["samples"] = [
        {k: s[k] for k in ("t", "x", "y", "viewport", "scroll", "dpr", "face", "source")} | {"x": s["raw"][0], "y": s["raw"][1]}
        for s in doc["samples"]
    ]
    rs.write(tmp_path / "v1.json", v1)
    session = read_sample_file(tmp_path / "v1.json")
    assert session.version == 1 and set(session.samples.page) == {VIEWPORT_PAGE}
    found = detect_fixations(session, FixationSettings())
    assert [f.duration_ms for f in found] == pytest.approx([600.0, 400.0], abs=TOLERANCE_MS)
    assert (found[0].x, found[0].y) == pytest.approx((rs.POINT_A[0], rs.POINT_A[1] - rs.SCROLL_Y), abs=TOLERANCE_PX)


def test_one_session_in_several_inputs_is_one_participant(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b())
    first, second = dict(doc, samples=doc["samples"][:30]), dict(doc, samples=doc["samples"][25:])  # overlapping halves
    paths = [rs.write(tmp_path / "1.json", first), rs.write(tmp_path / "2.json", second)]
    report = analyse(ReportConfig(inputs=tuple(paths), out=tmp_path / "out").validate())
    assert [quality.samples for quality in report.qualities] == [len(doc["samples"])]  # none lost, none twice
    assert len(report.fixations[rs.SESSION_A]) == 2


def test_display_scale_maps_raw_points_into_the_document() -> None:
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 1000, (200, 2))
    scroll = np.repeat([[0.0, 0.0], [0.0, 500.0]], 100, axis=0)
    doc = 1.5 * (xy + scroll) + [20.0, 40.0]  # a document shown at 2/3 of its size
    assert display_scale(xy, doc, scroll) == pytest.approx(1.5)
    doc_copy = rs.document(rs.SESSION_A, rs.a_then_b())
    session = session_from_document(doc_copy, "a.json", "a.json")
    mapped = doc_points(session.samples)
    assert mapped == pytest.approx(session.samples.raw + np.array([0.0, rs.SCROLL_Y]), abs=1e-6)


def test_heatmap_peaks_where_people_looked_longest(tmp_path: Path) -> None:
    rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b(a_ms=900, b_ms=300)))
    code, _, stderr = run(tmp_path / "a.json", "--out", tmp_path / "out")
    assert code == 0, stderr
    manifest = json.loads((tmp_path / "out" / "report.json").read_text())
    page = manifest["pages"][0]
    image = np.asarray(Image.open(tmp_path / "out" / page["heatmap"]).convert("RGB"), dtype=np.int32)
    assert image.shape[:2] == (page["png_height"], page["png_width"])
    scale = page["png_width"] / 1280
    redness = image[..., 0] - image[..., 2]
    peak_y, peak_x = np.unravel_index(np.argmax(redness), redness.shape)
    assert (peak_x / scale, peak_y / scale) == pytest.approx(rs.POINT_A, abs=15)
    corner = image[5, 5]
    assert tuple(corner) == (250, 250, 250)  # blank page where nobody looked


def test_heatmap_over_the_snapshot_image(tmp_path: Path) -> None:
    site = tmp_path / "dist"
    (site / "snapshot" / "1280").mkdir(parents=True)  # where snapshot builds keep the whole page, for reports
    Image.new("RGB", (1280, 3000), (10, 120, 200)).save(site / "snapshot" / "1280" / "page.webp", lossless=True)
    rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b(), image="snapshot/1280/page.webp"))
    code, _, stderr = run(tmp_path / "a.json", "--pages", site, "--out", tmp_path / "out")
    assert code == 0, stderr
    heatmap = Image.open(tmp_path / "out" / "heatmaps" / "page-1.png").convert("RGB")
    assert heatmap.getpixel((5, 5)) == (10, 120, 200)
    assert "drawn over the page image" in (tmp_path / "out" / "index.html").read_text()
    # Without --pages the same session is drawn over a blank page of the recorded size.
    code, _, _ = run(tmp_path / "a.json", "--out", tmp_path / "blank")
    assert code == 0
    assert Image.open(tmp_path / "blank" / "heatmaps" / "page-1.png").convert("RGB").getpixel((5, 5)) == (250, 250, 250)


def test_report_folder(tmp_path: Path) -> None:
    rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    rs.write(tmp_path / "b.json", rs.document(rs.SESSION_B, rs.a_then_b(300, 700), seed=5))
    out = tmp_path / "report"
    assert run(tmp_path / "a.json", tmp_path / "b.json", "--out", out)[0] == 0
    html = (out / "index.html").read_text()
    for image in ("heatmaps/page-1.png", "gazeplots/page-1-P1.png", "gazeplots/page-1-P2.png"):
        assert f'src="{image}"' in html and (out / image).is_file()
    assert "http://" not in html and "https://" not in html and "<script" not in html  # static and offline
    fixations = read_csv(out / "fixations.csv")
    assert [row["participant"] for row in fixations] == ["P1", "P1", "P2", "P2"]
    first = (out / "heatmaps" / "page-1.png").read_bytes()
    # A rerun replaces its own earlier report, byte for byte the same.
    assert run(tmp_path / "a.json", tmp_path / "b.json", "--out", out)[0] == 0
    assert (out / "heatmaps" / "page-1.png").read_bytes() == first


def test_db_sessions_are_read_like_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = [rs.document(rs.SESSION_A, rs.a_then_b()), rs.document(rs.SESSION_B, rs.a_then_b(), seed=3)]
    calls: list[Path] = []

    def iter_sessions(path: Path) -> Iterator[dict[str, Any]]:
        calls.append(path)
        return iter(stored)

    storage = types.ModuleType("gazesite.collect.storage")
    monkeypatch.setattr(storage, "iter_sessions", iter_sessions, raising=False)
    monkeypatch.setitem(sys.modules, "gazesite.collect", types.ModuleType("gazesite.collect"))
    monkeypatch.setitem(sys.modules, "gazesite.collect.storage", storage)
    db = tmp_path / "study.db"
    db.write_bytes(b"")
    code, stdout, stderr = run("--db", db, "--out", tmp_path / "out")
    assert code == 0, stderr
    assert calls == [db]
    assert "2 participants (2 included)" in stdout
    assert {row["id"] for row in read_csv(tmp_path / "out" / "participants.csv")} == {rs.SESSION_A, rs.SESSION_B}
