"""``gazesite bench accuracy``: how far gaze lands from where unseen people look, before and after calibration.

For each renderer, N people no model trained on (``gazesite.data.faces.unseen_people``)
look at the calibration dots the page shows (5, 9 and 13 by default) for as
many frames as the page collects per dot, then at 20 random points no dot
sits on. The built page receives the identical RGBA frames: its real
calibration code fits each dot count, and its pipeline predicts the held-out
frames, raw and calibrated. With ``peer="webgazer"`` the same frames and dots
go through WebGazer 3.5.3 (its ridge trained with ``recordScreenPosition``,
Kalman filter off), so both are scored on identical input.

Errors are mean Euclidean distances in fractions of the screen, beside the
error of always answering the screen's centre on the same held-out points
(what a tracker that learnt nothing scores). Where the renderer knows the
geometry (every renderer with a ``rig``: screen size, where the eyes are),
each person's error is also given in degrees of visual angle, measured at
the eyes' midpoint in every held-out frame.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.bench.accuracy_peer import webgazer_person, write_webgazer_page
from gazesite.bench.accuracy_tables import summary_table
from gazesite.bench.eyeband import BandOffset, band_offset, summarize_offsets
from gazesite.calibration.dots import MAX_POINTS, MIN_POINTS
from gazesite.errors import ConfigError, GazesiteError

log = logging.getLogger(__name__)

#: Held-out points per person, and frames per point: random points no calibration dot sits on.
TEST_TARGETS = 20
TEST_FRAMES = 3
#: The held-out points avoid the outermost 5% (the dots stay 10% in): tracking interpolates there.
TEST_BOX = (0.05, 0.95)
#: Seeds of the frame noise and head movement; fixed, so every run sees the same frames.
CALIBRATION_SEED, TEST_SEED = 1, 2
#: Where the frames are served from, under the page's own origin (its CSP allows nothing else).
FRAMES_DIR = "_bench"


@dataclass(frozen=True)
class AccuracyConfig:
    """Settings of ``gazesite bench accuracy``."""

    people: int = 6
    renderers: tuple[str, ...] = ("cartoon", "vector", "raycast", "studio")
    points: tuple[int, ...] = (5, 9, 13)
    frames_per_dot: int | None = None  # None: as many as the page collects per dot
    peer: str | None = None
    site: Path | None = None
    json_out: Path | None = None


def accuracy_points(text: str) -> tuple[int, ...]:
    """Parse --points ("5,9,13"); raise ConfigError naming the bad value."""
    try:
        points = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError([f"--points {text!r}: expected dot counts separated by commas, as in 5,9,13"]) from None
    bad = [p for p in points if not MIN_POINTS <= p <= MAX_POINTS]
    if bad or not points:
        raise ConfigError([f"--points {text!r}: each dot count must be {MIN_POINTS} to {MAX_POINTS}"])
    return points


@dataclass
class PersonFrames:
    """One person's frames: calibration frames at every dot of every layout, then the held-out frames."""

    frames: list[np.ndarray] = field(default_factory=list)
    calibration: dict[int, list[tuple[int, tuple[float, float]]]] = field(default_factory=dict)  # points -> (frame index, target)
    test: list[tuple[int, tuple[float, float]]] = field(default_factory=list)
    # Per held-out frame, the eyes' midpoint and the screen (world metres), when the renderer has a geometry.
    test_geometry: list[tuple[np.ndarray, Any]] = field(default_factory=list)
    # Per held-out frame with a face, where the eye band sat on the drawn eyes (renderers with a geometry only).
    band: list[BandOffset] = field(default_factory=list)

    def write(self, path: Path) -> None:
        """All frames, RGBA, one after another (the page fetches them as one file)."""
        with open(path, "wb") as out:
            for frame in self.frames:
                out.write(np.ascontiguousarray(frame).tobytes())


def ui_frames_per_dot(calibration: dict[str, Any], fps: int = 30) -> int:
    """How many frames the page collects at one dot from a 30 fps camera."""
    return int(calibration["collectMs"] * fps / 1000)


def person_frames(renderer: str, person: Any, points: tuple[int, ...], per_dot: int) -> PersonFrames:
    """Render one person looking at the union of the layouts, then at the held-out points."""
    from gazesite.calibration.dots import calibration_layout
    from gazesite.data import faces

    drawer = faces.RENDERERS[renderer]
    dots: list[tuple[float, float]] = []
    for count in points:
        dots.extend(dot for dot in calibration_layout(count) if dot not in dots)
    out = PersonFrames()
    at_dot: dict[tuple[float, float], list[int]] = {}
    for sample in faces.person_frames(drawer, person, dots, per_dot, CALIBRATION_SEED):
        at_dot.setdefault(sample.target, []).append(len(out.frames))
        out.frames.append(sample.frame)
    for count in points:
        out.calibration[count] = [(index, dot) for dot in calibration_layout(count) for index in at_dot[dot]]
    for sample in faces.person_frames(drawer, person, held_out_targets(), TEST_FRAMES, TEST_SEED):
        out.test.append((len(out.frames), sample.target))
        out.frames.append(sample.frame)
        rig = getattr(sample.identity, "rig", None)
        if rig is not None:
            out.test_geometry.append((np.asarray(rig.head.position, float), rig.screen))
            offset = band_offset(sample.frame, rig, sample.target)
            if offset is not None:
                out.band.append(offset)
    return out


def held_out_targets() -> list[tuple[float, float]]:
    """The held-out points every person looks at (the same for everyone: a fixed seed)."""
    from gazesite.data import faces

    return faces.random_targets(TEST_SEED, TEST_TARGETS, *TEST_BOX)


def centre_baseline() -> float:
    """Mean error of always answering the screen's centre on the held-out points."""
    return float(np.mean([np.hypot(x - 0.5, y - 0.5) for x, y in held_out_targets()]))


def visual_angle_deg(eyes: np.ndarray, screen: Any, target: tuple[float, float], gaze: tuple[float, float]) -> float:
    """Angle between the lines from the eyes to the target and to the gaze point on the screen, in degrees."""
    from gazesite.data.faces.geometry import target_point

    to_target = target_point(screen, target) - eyes
    to_gaze = target_point(screen, (float(gaze[0]), float(gaze[1]))) - eyes
    cosine = float(np.dot(to_target, to_gaze) / (np.linalg.norm(to_target) * np.linalg.norm(to_gaze)))
    return math.degrees(math.acos(min(1.0, max(-1.0, cosine))))


def held_out_degrees(results: list[dict[str, Any]], person: PersonFrames, key: str) -> float | None:
    """Mean visual-angle error of one kind of prediction over the held-out frames, or None without a geometry."""
    if len(person.test_geometry) != len(person.test):
        return None
    angles = [
        visual_angle_deg(eyes, screen, target, r[key])
        for r, (_, target), (eyes, screen) in zip(results, person.test, person.test_geometry, strict=True)
        if r.get(key) is not None
    ]
    return float(np.mean(angles)) if angles else None


# ---------------------------------------------------------------- in the page

_GAZESITE_IN_PAGE = """async ({url, width, height, calibrations, test}) => {
  const bytes = new Uint8ClampedArray(await (await fetch(url)).arrayBuffer());
  const size = width * height * 4;
  const image = (i) => new ImageData(bytes.slice(i * size, (i + 1) * size), width, height);
  window.gazesite.stop();
  const out = {};
  for (const [points, frames] of Object.entries(calibrations)) {
    await window.gazesite.resetCalibration();
    const began = performance.now();
    let summary = null;
    let problem = null;
    try {
      summary = await window.gazesite.calibrate(frames.map(([index, target]) => ({ image: image(index), target })));
    } catch (error) {
      problem = String(error.message ?? error);
    }
    const fitMs = performance.now() - began;
    const results = [];
    for (const [index] of test) {
      const { gaze, calibrated } = await window.gazesite.processFrame(image(index));
      results.push({ gaze, calibrated });
    }
    out[points] = { summary, problem, fitMs, results };
  }
  await window.gazesite.resetCalibration();
  return out;
}"""


def held_out_error(results: list[dict[str, Any]], test: list[tuple[int, tuple[float, float]]], key: str) -> tuple[float, int]:
    """Mean error of one kind of prediction over the held-out frames that have one, and how many had one."""
    distances = [float(np.hypot(*np.subtract(r[key], t))) for r, (_, t) in zip(results, test, strict=True) if r.get(key) is not None]
    return (float(np.mean(distances)) if distances else float("nan")), len(distances)


def gazesite_person(page: Any, url: str, person: PersonFrames) -> dict[str, Any]:
    """Calibrate the page at every dot count on one person; raw and calibrated errors on the held-out frames."""
    payload = {
        "url": url,
        "width": int(person.frames[0].shape[1]),
        "height": int(person.frames[0].shape[0]),
        "calibrations": {str(k): [[i, list(t)] for i, t in v] for k, v in person.calibration.items()},
        "test": [[i, list(t)] for i, t in person.test],
    }
    runs = page.evaluate(_GAZESITE_IN_PAGE, payload)
    out = {}
    for points, run in runs.items():
        before, seen = held_out_error(run["results"], person.test, "gaze")
        after, _ = held_out_error(run["results"], person.test, "calibrated")
        summary = run["summary"] or {}
        degrees_before = held_out_degrees(run["results"], person, "gaze")
        degrees_after = held_out_degrees(run["results"], person, "calibrated")
        out[points] = {
            "before": before,
            "after": after,
            "before_deg": None if degrees_before is None else round(degrees_before, 2),
            "after_deg": None if degrees_after is None else round(degrees_after, 2),
            "held_out_frames": seen,
            "method": summary.get("method"),
            "lambda": summary.get("lambda"),
            "cv_error": summary.get("cvError"),
            "fit_ms": round(run["fitMs"]),
            "calibration_frames": summary.get("samples", 0),
            "candidates": summary.get("candidates", []),
            "problem": run["problem"],
        }
    return out


# ---------------------------------------------------------------- the run


@contextmanager
def _site(config: AccuracyConfig, scratch: Path) -> Iterator[Path]:
    """A copy of the site to measure (or a fresh build of the default), with room for the frames."""
    site = scratch / "site"
    if config.site is not None:
        shutil.copytree(config.site, site, symlinks=False)
    else:
        from gazesite.bench.speed import build_bench_site

        build_bench_site(site, "https://example.org/")
    (site / FRAMES_DIR).mkdir()
    yield site


def run_accuracy(config: AccuracyConfig, playwright: Any | None = None) -> dict[str, Any]:
    """Measure every person of every renderer at every dot count; the report as JSON-ready data."""
    from playwright.sync_api import sync_playwright

    if playwright is None:
        with sync_playwright() as started:
            return run_accuracy(config, started)
    from gazesite.bench.peers import OFFLINE_ARGS, fetch_webgazer
    from gazesite.bench.serving import serving
    from gazesite.chromium import camera_args, launch, wait_ready
    from gazesite.data import faces

    unknown = [name for name in config.renderers if name not in faces.RENDERER_NAMES]
    if unknown:
        raise GazesiteError(f"--renderers: unknown renderer(s) {', '.join(unknown)}; expected some of {', '.join(faces.RENDERER_NAMES)}")
    package = fetch_webgazer() if config.peer == "webgazer" else None
    report: dict[str, Any] = {
        "people": config.people,
        "points": list(config.points),
        "held_out_targets": TEST_TARGETS,
        "held_out_frames": TEST_FRAMES,
        "centre": round(centre_baseline(), 4),
        "renderers": {},
    }
    with tempfile.TemporaryDirectory(prefix="gazesite-accuracy-") as temp, _site(config, Path(temp)) as site:
        scratch = Path(temp)
        settings = json.loads((site / "build.json").read_text())
        per_dot = config.frames_per_dot or ui_frames_per_dot(_page_settings(site)["calibration"])
        report["frames_per_dot"] = per_dot
        peer_dir = write_webgazer_page(package, scratch / "webgazer") if package else None
        chromium = launch(playwright, *camera_args())
        peer_chromium = launch(playwright, *OFFLINE_ARGS) if peer_dir else None
        try:
            with serving(site) as url, serving(peer_dir) if peer_dir else _nothing() as peer_url:
                page = chromium.new_page()
                page.goto(url)
                wait_ready(page)
                peer_page = None
                if peer_chromium is not None:
                    peer_page = peer_chromium.new_page()
                    # "commit": the camera's video never finishes loading, so the page's load event may not come.
                    peer_page.goto(peer_url, wait_until="commit")
                    peer_page.wait_for_function("window.peerReady !== undefined")
                    peer_page.evaluate("window.peerReady.then(() => true)")
                for renderer in config.renderers:
                    rows = []
                    for index, person in enumerate(faces.unseen_people(renderer, config.people)):
                        log.info("accuracy: %s person %d/%d, %d frames per dot", renderer, index + 1, config.people, per_dot)
                        frames = person_frames(renderer, person, config.points, per_dot)
                        name = f"{renderer}-{index}.bin"
                        frames.write(site / FRAMES_DIR / name)
                        row: dict[str, Any] = {
                            "person": index,
                            "gazesite": gazesite_person(page, f"{FRAMES_DIR}/{name}", frames),
                            "eye_band": summarize_offsets(frames.band),
                        }
                        if peer_page is not None and peer_dir is not None:
                            shutil.copyfile(site / FRAMES_DIR / name, peer_dir / name)
                            row["webgazer"] = webgazer_person(peer_page, name, frames)
                            (peer_dir / name).unlink()
                        (site / FRAMES_DIR / name).unlink()
                        rows.append(row)
                    report["renderers"][renderer] = rows
        finally:
            chromium.close()
            if peer_chromium is not None:
                peer_chromium.close()
        report["site"] = {"gazesite": settings.get("gazesite"), "quantize": settings.get("quantize")}
    report["summary"] = summary_table(report)
    if config.json_out:
        Path(config.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return report


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _page_settings(site: Path) -> dict[str, Any]:
    """The settings a built page carries (its #gazesite-config JSON)."""
    import html
    import re

    text = (site / "index.html").read_text()
    match = re.search(r'<script type="application/json" id="gazesite-config">(.*?)</script>', text, re.S)
    if match is None:
        raise GazesiteError(f"{site}/index.html has no gazesite settings: build it with this gazesite version")
    return json.loads(html.unescape(match.group(1)))
