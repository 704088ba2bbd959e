"""``gazesite bench speed``: the Python pipeline and the built site, measured side by side in one run.

(a) Python: per-stage time of ``process_frame`` + ``predict`` on a set of frames.
(b) Browser: per-stage time of ``window.gazesite.processFrame`` on the same
    frames, for each tf.js backend, in headless Chromium.
(c) Live: the page on a Y4M fake camera for a fixed time: processed frames
    per second and CPU seconds per processed frame of the browser's processes,
    beside a camera-only page that reads the same camera's frames and does
    nothing else (the floor under any live figure; the difference is gazesite's own).
    With ``peer="webgazer"``, WebGazer on the same camera (predictions per
    second, CPU seconds per prediction), its runs alternating with gazesite's.
Medians throughout; ratios are taken between figures of the same run.
"""

from __future__ import annotations

import gzip
import json
import logging
import statistics
import tempfile
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.bench.live import live_runs, median_run, peer_ratios, write_camera_page
from gazesite.bench.opencv import build_sites, format_side_by_side, side_by_side
from gazesite.bench.peers import PEERS, fetch_webgazer, write_peer_page
from gazesite.bench.serving import serving, target_page
from gazesite.chromium import page_function
from gazesite.errors import GazesiteError
from gazesite.site.settings import TFJS_BACKENDS

log = logging.getLogger(__name__)

STAGES = ("detection", "preprocessing", "inference")
#: Browser-only stage: the active calibration's point for the frame (Python applies no calibration per frame).
BROWSER_STAGES = (*STAGES, "calibration")
BACKENDS = TFJS_BACKENDS


@dataclass(frozen=True)
class BenchConfig:
    """Settings of ``gazesite bench speed``."""

    frames: int = 40
    rounds: int = 3
    live_seconds: float = 15.0
    live_rounds: int = 2
    peer: str | None = None
    backends: tuple[str, ...] = BACKENDS
    site: Path | None = None
    json_out: Path | None = None
    seed: int = 12
    # OpenCV.js builds: the first is measured throughout; with two or more, also side by side (gazesite.bench.opencv).
    opencv_builds: tuple[str, ...] = ("lean", "full")


# ---------------------------------------------------------------- inputs


def bench_frames(count: int, seed: int) -> list[np.ndarray]:
    """Synthetic camera frames in which the cascade finds a face."""
    from gazesite.data.faces import samples
    from gazesite.track.pipeline import process_frame

    frames = []
    for sample in samples("cartoon", seed):
        if process_frame(sample.frame).face is not None:
            frames.append(sample.frame)
        if len(frames) == count:
            return frames
    raise AssertionError("unreachable: the stream is endless")


def median_ms(values: list[float]) -> float:
    """Median of a list of milliseconds, rounded for printing."""
    return round(statistics.median(values), 3)


# ---------------------------------------------------------------- (a) Python


def python_stage_times(frames: list[np.ndarray], rounds: int) -> dict[str, float]:
    """Median ms per stage of the Python pipeline (OpenCV + Keras) on the frames."""
    from gazesite.model import load_model
    from gazesite.paths import default_model_dir
    from gazesite.track.pipeline import crop_face, detect_faces, pick_face, to_gray

    model = load_model(default_model_dir())
    model.predict(np.zeros((1, 50, 50), np.uint8))  # warm-up: graph tracing is not per-frame work
    times: dict[str, list[float]] = {stage: [] for stage in (*STAGES, "total")}
    for _ in range(rounds):
        for frame in frames:
            began = time.perf_counter()
            gray = to_gray(frame)
            face = pick_face(detect_faces(gray))
            detected = time.perf_counter()
            if face is None:  # the cascade missed this frame: nothing after detection to time
                continue
            crop = crop_face(gray, face)
            cropped = time.perf_counter()
            model.predict(crop[np.newaxis])
            done = time.perf_counter()
            for stage, seconds in zip(
                (*STAGES, "total"), (detected - began, cropped - detected, done - cropped, done - began), strict=True
            ):
                times[stage].append(seconds * 1000)
    return {stage: median_ms(values) for stage, values in times.items()}


# ---------------------------------------------------------------- (b) browser

_STAGES_IN_PAGE = page_function(
    "{frames, rounds, calibration}",
    """
  window.gazesite.stop();  // the live loop would share the CPU with the measurement
  const images = frames.map(decodeFrame);
  // A calibration of one person, so every frame also pays for the calibrated point.
  const summary = await window.gazesite.calibrate(calibration.map(({frame, target}) => ({image: decodeFrame(frame), target})));
  for (const image of images) await window.gazesite.processFrame(image);  // warm-up
  const out = {detection: [], preprocessing: [], inference: [], calibration: [], total: []};
  for (let round = 0; round < rounds; round++) {
    for (const image of images) {
      const began = performance.now();
      const result = await window.gazesite.processFrame(image);
      out.total.push(performance.now() - began);
      for (const stage of ['detection', 'preprocessing', 'inference', 'calibration']) out[stage].push(result.timings[stage]);
    }
  }
  await window.gazesite.resetCalibration();
  return {backend: window.gazesite.backend, times: out, method: summary.method};""",
)


def calibration_frames() -> list[dict[str, Any]]:
    """One unseen person at the 9 calibration dots, 5 frames each: the calibration the per-frame times include."""
    from gazesite.calibration.dots import calibration_layout
    from gazesite.chromium import rgba_payload
    from gazesite.data import faces

    person = faces.unseen_people("cartoon", 1)[0]
    samples = faces.person_frames("cartoon", person, calibration_layout(9), 5, seed=1)
    return [{"frame": rgba_payload(s.frame), "target": list(s.target)} for s in samples]


def browser_stage_times(chromium: Any, url: str, frames: list[np.ndarray], rounds: int, backend: str) -> dict[str, Any] | None:
    """Median ms per stage of processFrame for one backend (calibrated), or None if the browser lacks it."""
    from gazesite.chromium import rgba_payload, wait_ready

    page = chromium.new_context().new_page()
    try:
        page.goto(f"{url}?backend={backend}")
        wait_ready(page)
        payload = {"frames": [rgba_payload(f) for f in frames], "rounds": rounds, "calibration": calibration_frames()}
        result = page.evaluate(_STAGES_IN_PAGE, payload)
    finally:
        page.context.close()
    if result["backend"] != backend:
        log.warning("this Chromium cannot run the %s backend (it fell back to %s); skipped", backend, result["backend"])
        return None
    log.info("(b) %s: the calibration measured per frame is %s", backend, result["method"])
    return {**{stage: median_ms(values) for stage, values in result["times"].items()}, "calibration_method": result["method"]}


# ---------------------------------------------------------------- sizes


def first_load_sizes(dist: Path, urls: list[str]) -> dict[str, Any]:
    """Raw and gzip bytes of every dist/ file the page fetched."""
    files = {}
    for name in sorted(set(urls)):
        path = dist / name
        if path.is_file():
            data = path.read_bytes()
            files[name] = {"raw": len(data), "gzip": len(gzip.compress(data, compresslevel=9, mtime=0))}
    return {
        "files": files,
        "raw": sum(f["raw"] for f in files.values()),
        "gzip": sum(f["gzip"] for f in files.values()),
    }


# ---------------------------------------------------------------- the run


@dataclass
class BenchReport:
    """Everything one bench run measured."""

    python: dict[str, float] = field(default_factory=dict)
    browser: dict[str, dict[str, float] | None] = field(default_factory=dict)
    live: dict[str, dict[str, float]] = field(default_factory=dict)  # medians over live_runs
    live_runs: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    first_load: dict[str, Any] = field(default_factory=dict)
    frames: int = 0
    opencv: dict[str, dict[str, Any]] = field(default_factory=dict)  # OpenCV.js build -> its side-by-side figures

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data, with the ratios."""
        ratios = {b: round(self.python["total"] / t["total"], 2) for b, t in self.browser.items() if t}
        data = {
            "frames": self.frames,
            "python_ms": self.python,
            "browser_ms": self.browser,
            "python_over_browser": ratios,
            "live": self.live,
            "live_runs": self.live_runs,
            "first_load": self.first_load,
            "opencv_builds": self.opencv,
        }
        if "webgazer" in self.live:
            data["peer_ratios"] = peer_ratios(self.live)
        return data


def run_bench(config: BenchConfig, playwright: Any | None = None) -> BenchReport:
    """Measure everything once and return the report (``playwright``: a running instance to reuse)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise GazesiteError("gazesite bench speed needs Playwright and psutil: pip install 'gazesite[bench]'") from None
    if config.peer not in (None, *PEERS):
        raise GazesiteError(f"unknown peer {config.peer!r}: choose one of {', '.join(PEERS)}")
    if playwright is None:
        with sync_playwright() as started:
            return run_bench(config, started)
    from gazesite.bench.fakecam import face_video
    from gazesite.chromium import camera_args, launch

    # Fetch the peer before measuring anything: a missing npm fails in a second, not after minutes.
    peer_package = fetch_webgazer() if config.peer == "webgazer" else None
    report = BenchReport()
    frames = bench_frames(config.frames, config.seed)
    report.frames = len(frames)
    with tempfile.TemporaryDirectory(prefix="gazesite-bench-") as scratch, target_page() as target:
        dists = {} if config.site else build_sites(Path(scratch), target, config.opencv_builds)
        dist = config.site or dists[config.opencv_builds[0]]
        video = face_video(Path(scratch) / "face.y4m")
        peer_page = write_peer_page(peer_package, Path(scratch) / "webgazer") if peer_package else None
        camera_page = write_camera_page(Path(scratch) / "camera")
        with serving(dist) as url, serving(peer_page) if peer_page else nullcontext(None) as peer_url, serving(camera_page) as camera_url:
            log.info("(a) Python pipeline on %d frames x %d rounds", len(frames), config.rounds)
            report.python = python_stage_times(frames, config.rounds)
            chromium = launch(playwright, *camera_args())
            try:
                for backend in config.backends:
                    log.info("(b) browser pipeline, %s backend", backend)
                    report.browser[backend] = browser_stage_times(chromium, url, frames, config.rounds, backend)
            finally:
                chromium.close()
            report.live_runs = live_runs(playwright, config, video, url, camera_url, peer_url)
            report.live = {name: median_run(runs) for name, runs in report.live_runs.items()}
            report.first_load = first_load_sizes(dist, fetched_files(playwright, url, video))
            if len(dists) > 1:
                with ExitStack() as stack:
                    urls = {name: stack.enter_context(serving(site)) for name, site in dists.items()}
                    report.opencv = side_by_side(
                        playwright, dists, urls, frames, config.rounds, video, config.live_seconds, config.live_rounds
                    )
    if config.json_out:
        Path(config.json_out).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report


def build_bench_site(out: Path, target: str) -> Path:
    """Build the site the bench measures: the default model, default options."""
    from gazesite.paths import default_model_dir
    from gazesite.site.build import build
    from gazesite.site.settings import BuildConfig

    return build(BuildConfig(target=target, model=default_model_dir(), out=out, probe_target=False))


def fetched_files(playwright: Any, url: str, video: Path) -> list[str]:
    """The dist/ paths a first visit fetches, until the page runs."""
    from gazesite.chromium import camera_args, launch, wait_state

    chromium = launch(playwright, *camera_args(video))
    try:
        page = chromium.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(url)
        wait_state(page, "running")
    finally:
        chromium.close()
    names = [u[len(url) :].split("?")[0] for u in requested if u.startswith(url)]
    return [name or "index.html" for name in names]


def format_table(report: BenchReport) -> str:
    """The report as a plain-text table."""
    backends = [b for b, t in report.browser.items() if t]
    header = f"{'median ms per frame':<22}{'python':>10}" + "".join(f"{b:>10}" for b in backends)
    lines = [
        f"{report.frames} frames, same frames on every side; the browser also maps each to a calibrated point",
        header,
        "-" * len(header),
    ]
    for stage in (*BROWSER_STAGES, "total"):
        python = f"{report.python[stage]:>10.2f}" if stage in report.python else f"{'-':>10}"
        row = f"{stage:<22}{python}" + "".join(f"{report.browser[b][stage]:>10.2f}" for b in backends)  # type: ignore[index]
        lines.append(row)
    ratios = report.to_json()["python_over_browser"]
    lines.append(f"{'python / browser':<22}{'':>10}" + "".join(f"{ratios[b]:>9.2f}x" for b in backends))
    lines.append("")
    lines.extend(live_lines(report))
    load = report.first_load
    if load:
        lines.append(f"first load: {len(load['files'])} files, {load['raw'] / 1e6:.2f} MB raw, {load['gzip'] / 1e6:.2f} MB gzip")
    if report.opencv:
        lines.extend(["", *format_side_by_side(report.opencv)])
    return "\n".join(lines)


def live_lines(report: BenchReport) -> list[str]:
    """The live runs one by one, their medians and, with a peer, the ratios."""
    names = list(report.live_runs)
    rounds = max((len(runs) for runs in report.live_runs.values()), default=0)
    lines = [f"live on a fake camera, {rounds} round(s) of {' then '.join(names)}:"]
    for index in range(rounds):
        lines.extend(f"  round {index + 1} {name}: {describe_live(report.live_runs[name][index])}" for name in names)
    lines.extend(f"live {name} (median): {describe_live(live)}" for name, live in report.live.items())
    if {"gazesite", "camera"} <= set(report.live):
        own = report.live["gazesite"]["cpu_seconds_per_frame"] - report.live["camera"]["cpu_seconds_per_frame"]
        lines.append(f"gazesite's own CPU per frame (gazesite minus the camera alone): {own * 1000:.1f} ms")
    if "webgazer" in report.live:
        ratios = peer_ratios(report.live)
        lines.append(f"gazesite frames/s / webgazer predictions/s: {ratios['gazesite_fps_over_webgazer_pps']:.2f}x")
        lines.append(
            f"webgazer CPU per prediction / gazesite CPU per frame: {ratios['webgazer_cpu_per_prediction_over_gazesite_cpu_per_frame']:.2f}x"
        )
    return lines


def describe_live(run: dict[str, float]) -> str:
    """One live run (or a median) in words: gazesite counts processed frames, a peer predictions."""
    if "pps" in run:
        return (
            f"{run['pps']:.1f} predictions/s, {run['cpu_seconds_per_prediction'] * 1000:.1f} ms CPU per prediction "
            f"({run['predictions']:.0f} predictions in {run['seconds']:.1f} s)"
        )
    return (
        f"{run['fps']:.1f} processed frames/s, {run['cpu_seconds_per_frame'] * 1000:.1f} ms CPU per frame "
        f"({run['frames']:.0f} frames in {run['seconds']:.1f} s)"
    )
