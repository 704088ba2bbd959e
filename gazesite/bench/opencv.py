"""``gazesite bench speed``: the OpenCV.js builds side by side (lean, the default, and npm's full build).

For each build: a site built with ``--opencv BUILD`` from the same model and
target; per-stage times of ``processFrame`` (wasm backend, the same frames,
rounds alternating between the builds so drift of the machine hits both); the
live page on the same fake camera (alternating too); and every file a first
visit fetches, raw and gzip.
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.site.opencv_js import OPENCV_BUILDS

log = logging.getLogger(__name__)

#: The stages compared; ``total`` is the whole ``processFrame`` call.
SIDE_STAGES = ("detection", "preprocessing", "inference", "calibration", "total")
#: The tf.js backend the builds are compared on (the one ``auto`` picks).
SIDE_BACKEND = "wasm"


def build_sites(scratch: Path, target: str, builds: tuple[str, ...] = OPENCV_BUILDS) -> dict[str, Path]:
    """One site per OpenCV.js build, the default model and options otherwise."""
    from gazesite.paths import default_model_dir
    from gazesite.site.build import build
    from gazesite.site.settings import BuildConfig

    return {
        name: build(BuildConfig(target=target, model=default_model_dir(), out=scratch / f"dist-{name}", probe_target=False, opencv=name))
        for name in builds
    }


def side_by_side(
    playwright: Any,
    dists: dict[str, Path],
    urls: dict[str, str],
    frames: list[np.ndarray],
    rounds: int,
    video: Path,
    live_seconds: float,
    live_rounds: int,
) -> dict[str, dict[str, Any]]:
    """Per-stage medians, live figures and first-load bytes of every build, measured alternately."""
    from gazesite.bench.live import GAZESITE_COUNTER, live_rate, median_run
    from gazesite.bench.speed import browser_stage_times, fetched_files, first_load_sizes
    from gazesite.chromium import camera_args, launch

    names = list(dists)
    per_round: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    chromium = launch(playwright, *camera_args())
    try:
        for index in range(rounds):
            for name in names[index % len(names) :] + names[: index % len(names)]:
                log.info("(d) OpenCV.js %s: processFrame round %d/%d", name, index + 1, rounds)
                times = browser_stage_times(chromium, urls[name], frames, 1, SIDE_BACKEND)
                if times is not None:
                    per_round[name].append(times)
    finally:
        chromium.close()
    live: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for index in range(live_rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            log.info("(d) OpenCV.js %s: live round %d/%d", name, index + 1, live_rounds)
            live[name].append(live_rate(playwright, urls[name], video, live_seconds, GAZESITE_COUNTER))
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        rounds_done = per_round[name]
        out[name] = {
            "browser_ms": {stage: round(statistics.median(r[stage] for r in rounds_done), 3) for stage in SIDE_STAGES}
            if rounds_done
            else None,
            "live": median_run(live[name]),
            "live_runs": live[name],
            "first_load": first_load_sizes(dists[name], fetched_files(playwright, urls[name], video)),
        }
    return out


def format_side_by_side(sides: dict[str, dict[str, Any]]) -> list[str]:
    """The builds as columns: stage times, live figures, first-load bytes in total and per file."""
    names = list(sides)
    width = 12
    header = f"{'OpenCV.js build':<30}" + "".join(f"{name:>{width}}" for name in names)
    lines = [f"OpenCV.js builds side by side ({SIDE_BACKEND} backend, same frames, rounds alternating):", header, "-" * len(header)]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<30}" + "".join(f"{value:>{width}}" for value in values))

    for stage in SIDE_STAGES:
        row(f"{stage} (median ms)", [f"{sides[n]['browser_ms'][stage]:.2f}" if sides[n]["browser_ms"] else "-" for n in names])
    row("live processed frames/s", [f"{sides[n]['live']['fps']:.1f}" for n in names])
    row("live CPU ms per frame", [f"{sides[n]['live']['cpu_seconds_per_frame'] * 1000:.1f}" for n in names])
    row("first load files", [str(len(sides[n]["first_load"]["files"])) for n in names])
    row("first load MB raw", [f"{sides[n]['first_load']['raw'] / 1e6:.3f}" for n in names])
    row("first load MB gzip", [f"{sides[n]['first_load']['gzip'] / 1e6:.3f}" for n in names])
    lines.append("first load per file, kB gzip (kB raw):")
    lines.append(f"  {'file':<52}" + "".join(f"{n:>20}" for n in names))
    files = sorted({f for n in names for f in sides[n]["first_load"]["files"]})
    for name in files:
        cells = []
        for n in names:
            entry = sides[n]["first_load"]["files"].get(name)
            cells.append(f"{entry['gzip'] / 1e3:.1f} ({entry['raw'] / 1e3:.0f})" if entry else "-")
        lines.append(f"  {name:<52}" + "".join(f"{cell:>20}" for cell in cells))
    return lines
