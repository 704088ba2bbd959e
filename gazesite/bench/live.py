"""The live page on a Y4M fake camera: processed frames per second and CPU per frame of all Chromium processes (and WebGazer's)."""

from __future__ import annotations

import logging
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gazesite.bench.peers import OFFLINE_ARGS, PEER_COUNTER
from gazesite.errors import GazesiteError

if TYPE_CHECKING:
    from gazesite.bench.speed import BenchConfig

log = logging.getLogger(__name__)

#: JS expression for the frames the live page has run through the pipeline.
GAZESITE_COUNTER = "window.gazesite.framesProcessed"
#: JS expression for the frames the camera-only page has read.
CAMERA_COUNTER = "window.framesRead"

#: The floor under any live figure: a page that plays the same fake camera and reads every frame into
#: pixels as the live loop does (drawImage + getImageData), and does nothing else.
CAMERA_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>camera only</title></head>
<body><video autoplay muted playsinline></video><canvas width="{width}" height="{height}"></canvas>
<script>
window.framesRead = 0;
const video = document.querySelector('video');
const context = document.querySelector('canvas').getContext('2d', {{ willReadFrequently: true }});
navigator.mediaDevices.getUserMedia({{ video: {{ width: {width}, height: {height} }} }}).then((stream) => {{
  video.srcObject = stream;
  const read = () => {{
    context.drawImage(video, 0, 0, {width}, {height});
    context.getImageData(0, 0, {width}, {height});
    window.framesRead += 1;
    video.requestVideoFrameCallback(read);
  }};
  video.requestVideoFrameCallback(read);
}});
</script></body></html>
"""


def write_camera_page(folder: Path) -> Path:
    """Write the camera-only page (CAMERA_PAGE at the pipeline's camera size) into ``folder``."""
    from gazesite.track.pipeline import PIPELINE

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(CAMERA_PAGE.format(width=PIPELINE.camera_width, height=PIPELINE.camera_height))
    return folder


def browser_cpu_seconds() -> dict[int, float]:
    """CPU seconds used so far by each Chromium process started from this process."""
    import psutil

    usage = {}
    for process in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "chrom" in process.name().lower():
                times = process.cpu_times()
                usage[process.pid] = times.user + times.system
        except psutil.Error:  # a process that ended meanwhile used nothing more
            continue
    return usage


def live_rate(playwright: Any, url: str, video: Path, seconds: float, counter: str, extra_args: tuple[str, ...] = ()) -> dict[str, float]:
    """Processed frames per second and CPU seconds per frame on a fake camera.

    ``counter`` is a JS expression that counts processed frames (or predictions);
    ``extra_args`` are more Chromium arguments.
    """
    from gazesite.chromium import camera_args, launch

    chromium = launch(playwright, *camera_args(video), *extra_args)
    try:
        page = chromium.new_page()
        page.goto(url)
        page.wait_for_function(f"({counter}) > 10", timeout=90_000)
        page.wait_for_timeout(2000)  # let start-up work (compilation, first frames) settle
        frames0, cpu0, t0 = page.evaluate(counter), browser_cpu_seconds(), time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        frames1, cpu1, t1 = page.evaluate(counter), browser_cpu_seconds(), time.perf_counter()
    finally:
        chromium.close()
    frames = frames1 - frames0
    cpu = sum(total - cpu0.get(pid, 0.0) for pid, total in cpu1.items())
    return {
        "frames": frames,
        "seconds": round(t1 - t0, 2),
        "fps": round(frames / (t1 - t0), 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_seconds_per_frame": round(cpu / frames, 5) if frames else float("nan"),
    }


def webgazer_live_rate(playwright: Any, url: str, video: Path, seconds: float) -> dict[str, float]:
    """WebGazer's predictions per second and CPU seconds per prediction on a fake camera, offline."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        run = live_rate(playwright, url, video, seconds, PEER_COUNTER, extra_args=OFFLINE_ARGS)
    except PlaywrightError as exc:  # a start-up failure or no face found: one line, not a trace
        raise GazesiteError(f"the WebGazer peer did not run: {str(exc).splitlines()[0]}") from None
    return as_predictions(run)


def as_predictions(run: dict[str, float]) -> dict[str, float]:
    """A peer's live figures under names that say what it counts: predictions, not frames."""
    names = {"frames": "predictions", "fps": "pps", "cpu_seconds_per_frame": "cpu_seconds_per_prediction"}
    return {names.get(key, key): value for key, value in run.items()}


def live_runs(
    playwright: Any, config: BenchConfig, video: Path, url: str, camera_url: str, peer_url: str | None
) -> dict[str, list[dict[str, float]]]:
    """Every live run, gazesite, the camera-only page and the peer alternating round by round so machine drift hits all."""
    runs: dict[str, list[dict[str, float]]] = {"gazesite": [], "camera": [], **({"webgazer": []} if peer_url else {})}
    for round_number in range(1, config.live_rounds + 1):
        log.info("(c) live round %d/%d: gazesite on a fake camera for %.0f s", round_number, config.live_rounds, config.live_seconds)
        runs["gazesite"].append(live_rate(playwright, url, video, config.live_seconds, GAZESITE_COUNTER))
        log.info("(c) live round %d/%d: the camera alone, frames read, for %.0f s", round_number, config.live_rounds, config.live_seconds)
        runs["camera"].append(live_rate(playwright, camera_url, video, config.live_seconds, CAMERA_COUNTER))
        if peer_url:
            log.info("(c) live round %d/%d: webgazer on the same camera for %.0f s", round_number, config.live_rounds, config.live_seconds)
            runs["webgazer"].append(webgazer_live_rate(playwright, peer_url, video, config.live_seconds))
    return runs


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each live figure over runs."""
    return {key: round(statistics.median(run[key] for run in runs), 5) for key in runs[0]}


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator rounded, NaN when the denominator is zero or NaN."""
    return round(numerator / denominator, 2) if denominator else float("nan")


def peer_ratios(live: dict[str, dict[str, float]]) -> dict[str, float]:
    """gazesite against WebGazer, from the medians: how many times the rate, how many times the CPU."""
    gazesite, webgazer = live["gazesite"], live["webgazer"]
    return {
        "gazesite_fps_over_webgazer_pps": ratio(gazesite["fps"], webgazer["pps"]),
        "webgazer_cpu_per_prediction_over_gazesite_cpu_per_frame": ratio(
            webgazer["cpu_seconds_per_prediction"], gazesite["cpu_seconds_per_frame"]
        ),
    }
