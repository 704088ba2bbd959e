"""``gazesite build``: the static site that overlays a live gaze heatmap on a target."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH
from gazesite.model.settings import QUANTIZATIONS
from gazesite.site.settings import BACKENDS


@click.command()
@click.option(
    "--target",
    required=True,
    help="The http(s) URL of the page to overlay, a local site folder (same-origin mode) or a PNG/JPEG/WebP image (snapshot mode).",
)
@click.option("--model", type=PATH, default=None, help="gazesite or TF.js model directory  [default: the shipped model]")
@click.option("--out", type=PATH, default=Path("dist"), show_default=True, help="Site folder to write.")
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
@click.option("--consent", type=PATH, default=None, help="With --collect: the consent notice (Markdown: paragraphs, emphasis, links).")
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
@click.option("--task-file", type=PATH, default=None, help="With --collect: the task from a Markdown file (as --consent).")
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
    from gazesite.errors import ConfigError
    from gazesite.paths import default_model_dir
    from gazesite.site.settings import BuildConfig
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
