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


def live_runs(playwright: Any, config: BenchConfig, video: Path, url: str, peer_url: str | None) -> dict[str, list[dict[str, float]]]:
    """Every live run, gazesite and the peer alternating round by round so machine drift hits both."""
    runs: dict[str, list[dict[str, float]]] = {"gazesite": [], **({"webgazer": []} if peer_url else {})}
    for round_number in range(1, config.live_rounds + 1):
        log.info("(c) live round %d/%d: gazesite on a fake camera for %.0f s", round_number, config.live_rounds, config.live_seconds)
        runs["gazesite"].append(live_rate(playwright, url, video, config.live_seconds, GAZESITE_COUNTER))
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
