"""``gazesite bench speed|accuracy|detectors``: measurements of the built page, each its own subcommand."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH
from gazesite.site.settings import TFJS_BACKENDS

_PEER = click.Choice(["webgazer"])
_SITE_HELP = "A built site to measure  [default: build one with the default model]"
_JSON_HELP = "Also write the figures as JSON."


@click.group()
def bench() -> None:
    """Measure the built page: its speed, its accuracy on unseen people, cheaper face detectors."""


@bench.command()
@click.option("--frames", type=click.IntRange(min=1), default=40, show_default=True, help="Frames with a face, the same on every side.")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True, help="Passes over the frames.")
@click.option("--live-seconds", type=click.FloatRange(min=1), default=15.0, show_default=True, help="Length of each fake-camera run.")
@click.option(
    "--live-rounds", type=click.IntRange(min=1), default=2, show_default=True, help="Fake-camera runs per side (medians are reported)."
)
@click.option(
    "--backend", "backends", multiple=True, type=click.Choice(TFJS_BACKENDS), help="Backends to time (repeatable)  [default: all]"
)
@click.option("--peer", type=_PEER, default=None, help="Also run WebGazer 3.5.3 (fetched once with npm), live beside gazesite.")
@click.option("--site", type=PATH, default=None, help=_SITE_HELP)
@click.option("--json", "json_out", type=PATH, default=None, help=_JSON_HELP)
@click.option(
    "--opencv",
    "opencv_builds",
    multiple=True,
    type=click.Choice(["lean", "full"]),
    help="OpenCV.js builds to measure, the first throughout, two side by side (repeatable)  [default: lean, full]",
)
def speed(
    frames: int,
    rounds: int,
    live_seconds: float,
    live_rounds: int,
    backends: tuple[str, ...],
    peer: str | None,
    site: Path | None,
    json_out: Path | None,
    opencv_builds: tuple[str, ...],
) -> None:
    """Measure the Python and the in-browser pipeline side by side: stage times, live frames/s and CPU, first-load bytes."""
    from gazesite.bench.speed import BACKENDS, BenchConfig, format_table, run_bench

    config = BenchConfig(
        frames=frames,
        rounds=rounds,
        live_seconds=live_seconds,
        live_rounds=live_rounds,
        peer=peer,
        backends=backends or BACKENDS,
        site=site,
        json_out=json_out,
        opencv_builds=tuple(dict.fromkeys(opencv_builds)) or ("lean", "full"),
    )
    click.echo(format_table(run_bench(config)))


@bench.command()
@click.option("--people", type=click.IntRange(min=1, max=100), default=6, show_default=True, help="Unseen people per renderer.")
@click.option("--renderers", default="cartoon,vector,raycast,studio", show_default=True, help="Face renderers, comma-separated.")
@click.option("--points", default="5,9,13", show_default=True, help="Calibration dot counts, comma-separated.")
@click.option(
    "--frames-per-dot",
    type=click.IntRange(min=1, max=120),
    default=None,
    help="Frames per dot  [default: as many as the page collects]",
)
@click.option("--peer", type=_PEER, default=None, help="Also run WebGazer 3.5.3 (fetched once with npm) on the same frames.")
@click.option("--site", type=PATH, default=None, help=_SITE_HELP)
@click.option("--json", "json_out", type=PATH, default=None, help=_JSON_HELP)
def accuracy(
    people: int, renderers: str, points: str, frames_per_dot: int | None, peer: str | None, site: Path | None, json_out: Path | None
) -> None:
    """Measure calibrated accuracy on unseen synthetic people, before and after calibration."""
    from gazesite.bench.accuracy import AccuracyConfig, accuracy_points, run_accuracy
    from gazesite.bench.accuracy_tables import format_accuracy
    from gazesite.data.settings import parse_renderers

    config = AccuracyConfig(
        people=people,
        renderers=parse_renderers(renderers),
        points=accuracy_points(points),
        frames_per_dot=frames_per_dot,
        peer=peer,
        site=site,
        json_out=json_out,
    )
    click.echo(format_accuracy(run_accuracy(config)))


@bench.command()
@click.option("--frames", type=click.IntRange(min=1), default=40, show_default=True, help="Frames per face renderer, and of real faces.")
@click.option(
    "--cascade",
    "cascades",
    multiple=True,
    type=PATH,
    help="Also an OpenCV cascade XML, alone and proposing faces to the shipped one (repeatable).",
)
@click.option("--json", "json_out", type=PATH, default=None, help=_JSON_HELP)
def detectors(frames: int, cascades: tuple[Path, ...], json_out: Path | None) -> None:
    """Compare the shipped face detector with cheaper ones: faces found, same boxes, time."""
    from gazesite.bench.detectors import format_detectors, run_detectors

    click.echo(format_detectors(run_detectors(frames, cascades, json_out)))
