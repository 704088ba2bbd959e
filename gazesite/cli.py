"""The ``gazesite`` command line: a thin shell over the library.

Each command turns its options into a config object and calls one library
function. Heavy modules (TensorFlow, OpenCV) are imported inside commands so
``gazesite --help`` answers at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from gazesite import __version__
from gazesite.collect.cli import collect as collect_command
from gazesite.config import BACKENDS, QUANTIZATIONS, TFJS_BACKENDS
from gazesite.data.faces import DEFAULT_RENDERERS, TRAINING_RENDERERS
from gazesite.errors import GazesiteError
from gazesite.report.command import report as report_command

_PATH = click.Path(path_type=Path)
_RENDERERS_HELP = f"Who draws the synthetic faces, comma-separated: {', '.join(TRAINING_RENDERERS)}; chunks take turns."
_AUGMENT_HELP = "Degrade synthetic frames like cheap webcams: gamma, contrast, colour cast, blur, noise, JPEG, rescaling, vignetting."


class Commands(click.Group):
    """The command group; an OS refusal anywhere below becomes a one-line error instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; PermissionError (an unreadable --db folder, an unwritable --out parent) names the path."""
        try:
            return super().invoke(ctx)
        except PermissionError as exc:
            raise GazesiteError(f"{exc.filename or 'a file'}: permission denied: run as a user who may read or write it") from None


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gazesite")
@click.option("-v", "--verbose", is_flag=True, help="Show debug messages.")
@click.option("-q", "--quiet", is_flag=True, help="Show warnings and errors only.")
def cli(verbose: bool, quiet: bool) -> None:
    """Train gaze models and build static sites that show where people look."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")


@cli.group()
def dataset() -> None:
    """Create and inspect gaze datasets."""


@dataset.command("synth")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Number of face crops to keep.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; same seed, same file.")
@click.option("--out", type=_PATH, required=True, help="Dataset file to write (.json or .json.gz).")
@click.option("--renderers", default=",".join(DEFAULT_RENDERERS), show_default=True, help=_RENDERERS_HELP)
@click.option("--augment", is_flag=True, help=_AUGMENT_HELP)
def dataset_synth(count: int, seed: int, out: Path, renderers: str, augment: bool) -> None:
    """Render synthetic faces with known gaze targets into a dataset file."""
    from gazesite.config import SynthConfig, parse_renderers

    config = SynthConfig(count=count, out=out, seed=seed, renderers=parse_renderers(renderers), augment=augment).validate()
    from gazesite.data.dataset import save_dataset
    from gazesite.data.generate import make_dataset

    data = make_dataset(config.count, config.seed, renderers=config.renderers, augment=config.augment)
    save_dataset(data, out)
    rate = data.metadata["detection_rate"]
    click.echo(f"wrote {out}: {len(data)} crops (face found in {rate:.1%} of {data.metadata['frames_rendered']} frames)")


@dataset.command("info")
@click.argument("path", type=_PATH)
def dataset_info(path: Path) -> None:
    """Check a dataset file and print what it holds."""
    import json

    from gazesite.data.dataset import load_dataset, summarize

    data = load_dataset(path)
    click.echo(json.dumps({**summarize(data), "metadata": data.metadata}, indent=2))


@cli.command()
@click.option("--data", "data", type=_PATH, multiple=True, help="Dataset file (repeatable).")
@click.option("--synthetic", type=int, default=0, show_default=True, help="Also train on N synthetic faces.")
@click.option("--epochs", type=int, default=40, show_default=True, help="Most epochs; early stopping may end sooner.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for data, split and weights.")
@click.option("--init", type=_PATH, default=None, help="Fine-tune this model directory instead of starting afresh.")
@click.option("--out", type=_PATH, required=True, help="Model directory to write.")
@click.option("--renderers", default=",".join(DEFAULT_RENDERERS), show_default=True, help=_RENDERERS_HELP)
@click.option("--augment", is_flag=True, help=_AUGMENT_HELP)
def train(
    data: tuple[Path, ...], synthetic: int, epochs: int, seed: int, init: Path | None, out: Path, renderers: str, augment: bool
) -> None:
    """Train (or with --init, fine-tune) the gaze CNN and write a model directory."""
    from gazesite.config import TrainConfig, parse_renderers

    config = TrainConfig(
        out=out, data=data, synthetic=synthetic, epochs=epochs, seed=seed, init=init, renderers=parse_renderers(renderers), augment=augment
    ).validate()
    from gazesite.model.training import train as run_training

    result = run_training(config)
    click.echo(
        f"wrote {result.out}: validation mean Euclidean error {result.validation_error:.4f} of the screen, "
        f"{result.parameters} parameters, {result.epochs_run} epochs"
    )


@cli.command()
@click.argument("model", type=_PATH)
@click.option("--out", type=_PATH, required=True, help="TF.js model directory to write.")
@click.option("--quantize", default="uint8", show_default=True, help=f"Weight type: {', '.join(QUANTIZATIONS)}.")
@click.option("--shard-size", type=int, default=4 * 1024 * 1024, show_default=True, help="Largest weight file, in bytes.")
def convert(model: Path, out: Path, quantize: str, shard_size: int) -> None:
    """Convert a trained model to a TensorFlow.js layers model."""
    from gazesite.config import ConvertConfig

    config = ConvertConfig(model=model, out=out, quantize=quantize, shard_size=shard_size).validate()
    from gazesite.model.convert import convert as run_conversion

    report = run_conversion(config)
    click.echo(
        f"wrote {report.out}: {report.weight_bytes} weight bytes in {report.shards} shard(s), {report.quantize}; "
        f"|difference| from float on {report.samples} validation crops: max {report.max_abs_diff:.2e}, mean {report.mean_abs_diff:.2e}"
    )


@cli.command()
@click.argument("path", type=_PATH)
def inspect(path: Path) -> None:
    """Show what gazesite sees in a model and whether it can build a site with it."""
    from gazesite.model.inspection import inspect_model

    report = inspect_model(path)
    click.echo(report.to_text())
    if not report.buildable:
        raise SystemExit(1)


@cli.command()
@click.option(
    "--target",
    required=True,
    help="The http(s) URL of the page to overlay, a local site folder (same-origin mode) or a PNG/JPEG/WebP image (snapshot mode).",
)
@click.option("--model", type=_PATH, default=None, help="gazesite or TF.js model directory  [default: the shipped model]")
@click.option("--out", type=_PATH, default=Path("dist"), show_default=True, help="Site folder to write.")
@click.option("--quantize", default="uint8", show_default=True, help=f"Weight type: {', '.join(QUANTIZATIONS)}.")
@click.option("--backend", default="auto", show_default=True, help=f"TensorFlow.js backend: {', '.join(BACKENDS)}.")
@click.option("--smoothing", type=int, default=5, show_default=True, help="Moving-average window, in frames.")
@click.option("--calibration-points", type=int, default=9, show_default=True, help="Dots shown when a visitor calibrates.")
@click.option("--no-probe", is_flag=True, help="Do not ask the target at build time whether it can be framed.")
@click.option(
    "--snapshot", is_flag=True, help="Capture the URL with Chromium now and show the capture (gaze in document px; no framing needed)."
)
@click.option("--widths", default=None, help="With --snapshot or a site folder: widths to capture, comma-separated  [default: 1280,1920]")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Let build-time Chromium reach private, loopback and link-local addresses (refused by default).",
)
@click.option(
    "--no-page-images", is_flag=True, help="With a site folder: do not capture its pages for reports (no Chromium at build time)."
)
@click.option("--study", default=None, help="A study name that every sample export carries.")
@click.option("--collect", default=None, help="Send consenting visitors' samples to this URL (a 'gazesite collect' server).")
@click.option("--consent", type=_PATH, default=None, help="With --collect: the consent notice (Markdown: paragraphs, emphasis, links).")
@click.option(
    "--opencv", default="lean", show_default=True, help="OpenCV.js to ship: lean (the page's functions only) or full (npm's build)."
)
@click.option(
    "--researcher-view",
    is_flag=True,
    help="With --collect: show the heatmap, gaze dot and panel instead of the participant flow (piloting).",
)
@click.option("--finish-url", default=None, help="With --collect: send participants here when they finish (pid=ID appended).")
@click.option("--task", default=None, help="With --collect: the task participants read before the page (Markdown subset).")
@click.option("--task-file", type=_PATH, default=None, help="With --collect: the task from a Markdown file (as --consent).")
@click.option("--seconds", default=None, help="With --collect: end the session after N seconds on the page.")
def build(
    target: str,
    model: Path | None,
    out: Path,
    quantize: str,
    backend: str,
    smoothing: int,
    calibration_points: int,
    no_probe: bool,
    snapshot: bool,
    widths: str | None,
    allow_private: bool,
    no_page_images: bool,
    study: str | None,
    collect: str | None,
    consent: Path | None,
    opencv: str,
    researcher_view: bool,
    finish_url: str | None,
    task: str | None,
    task_file: Path | None,
    seconds: str | None,
) -> None:
    """Build a static site that overlays a live gaze heatmap on TARGET."""
    from gazesite.config import BuildConfig
    from gazesite.errors import ConfigError
    from gazesite.paths import default_model_dir
    from gazesite.study.participant import parse_seconds
    from gazesite.study.snapshot import parse_widths

    parsed_widths = parse_widths(widths) if widths is not None else None
    if widths is not None and parsed_widths is None:
        raise ConfigError([f"--widths {widths!r}: expected widths in px separated by commas, as in 1280,1920"])
    config = BuildConfig(
        target=target,
        model=model or default_model_dir(),
        out=out,
        quantize=quantize,
        backend=backend,
        smoothing=smoothing,
        calibration_points=calibration_points,
        probe_target=not no_probe,
        snapshot=snapshot,
        widths=parsed_widths,
        page_images=not no_page_images,
        allow_private=allow_private,
        study=study,
        collect=collect,
        consent=consent,
        opencv=opencv,
        researcher_view=researcher_view,
        finish_url=finish_url,
        task=task,
        task_file=task_file,
        seconds=parse_seconds(seconds) if seconds is not None else None,
    ).validate()
    from gazesite.site.build import build as run_build

    run_build(config)
    click.echo(f"built {out}/ for {target}; serve it with: gazesite serve {out}")


@cli.command()
@click.argument("directory", type=_PATH, default=Path("dist"))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0 picks a free one).")
@click.option("--host", default="localhost", show_default=True, help="Interface to listen on.")
def serve(directory: Path, port: int, host: str) -> None:
    """Serve a built site on http://localhost (a secure context: the camera works)."""
    from gazesite.site.serve import make_server

    server = make_server(directory, port, host)
    click.echo(f"serving {directory} at http://{host}:{server.server_address[1]}/ (Ctrl+C stops)", err=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.option("--frames", type=click.IntRange(min=1), default=40, show_default=True, help="Frames with a face, the same on every side.")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True, help="Passes over the frames.")
@click.option("--live-seconds", type=click.FloatRange(min=1), default=15.0, show_default=True, help="Length of each fake-camera run.")
@click.option(
    "--live-rounds", type=click.IntRange(min=1), default=2, show_default=True, help="Fake-camera runs per side (medians are reported)."
)
@click.option(
    "--backend", "backends", multiple=True, type=click.Choice(TFJS_BACKENDS), help="Backends to time (repeatable)  [default: all]"
)
@click.option("--accuracy", is_flag=True, help="Measure accuracy on unseen synthetic people instead of speed.")
@click.option(
    "--detectors",
    is_flag=True,
    help="Compare the shipped face detector with cheaper ones instead (faces found, same boxes, time; --frames per face renderer and real faces).",
)
@click.option(
    "--cascade",
    "cascades",
    multiple=True,
    type=_PATH,
    help="With --detectors: also an OpenCV cascade XML, alone and proposing faces to the shipped one (repeatable).",
)
@click.option(
    "--people", type=click.IntRange(min=1, max=100), default=6, show_default=True, help="With --accuracy: unseen people per renderer."
)
@click.option("--renderers", default="cartoon,vector,raycast", show_default=True, help="With --accuracy: face renderers, comma-separated.")
@click.option("--points", default="5,9,13", show_default=True, help="With --accuracy: calibration dot counts, comma-separated.")
@click.option(
    "--frames-per-dot",
    type=click.IntRange(min=1, max=120),
    default=None,
    help="With --accuracy: frames per dot  [default: as many as the page collects]",
)
@click.option(
    "--peer",
    type=click.Choice(["webgazer"]),
    default=None,
    help="Also run WebGazer 3.5.3 (fetched once with npm): live beside gazesite, or on the same frames with --accuracy.",
)
@click.option("--site", type=_PATH, default=None, help="A built site to measure  [default: build one with the default model]")
@click.option("--json", "json_out", type=_PATH, default=None, help="Also write the figures as JSON.")
@click.option(
    "--opencv",
    "opencv_builds",
    multiple=True,
    type=click.Choice(["lean", "full"]),
    help="OpenCV.js builds to measure, the first throughout, two side by side (repeatable)  [default: lean, full]",
)
def bench(
    frames: int,
    rounds: int,
    live_seconds: float,
    live_rounds: int,
    backends: tuple[str, ...],
    accuracy: bool,
    detectors: bool,
    cascades: tuple[Path, ...],
    people: int,
    renderers: str,
    points: str,
    frames_per_dot: int | None,
    peer: str | None,
    site: Path | None,
    json_out: Path | None,
    opencv_builds: tuple[str, ...],
) -> None:
    """Measure the Python and the in-browser pipeline side by side (or, with --accuracy, calibrated accuracy)."""
    if cascades and not detectors:
        raise click.UsageError("--cascade needs --detectors: it adds a cascade to the detector comparison")
    if detectors:
        from gazesite.bench.detectors import format_detectors, run_detectors

        click.echo(format_detectors(run_detectors(frames, cascades, json_out)))
        return
    if accuracy:
        from gazesite.bench.accuracy import AccuracyConfig, format_accuracy, run_accuracy
        from gazesite.config import accuracy_points

        accuracy_config = AccuracyConfig(
            people=people,
            renderers=tuple(name.strip() for name in renderers.split(",") if name.strip()),
            points=accuracy_points(points),
            frames_per_dot=frames_per_dot,
            peer=peer,
            site=site,
            json_out=json_out,
        )
        click.echo(format_accuracy(run_accuracy(accuracy_config)))
        return
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


# gazesite report lives in its own package; registering it here keeps this module thin.
cli.add_command(report_command)
cli.add_command(collect_command)


def main() -> None:
    """Run the CLI (the console-script entry point)."""
    cli()
