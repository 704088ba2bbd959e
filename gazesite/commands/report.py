"""``gazesite report``: options in, one library call, one summary line out."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH, plural
from gazesite.report.fixations import DISPERSION_PX, MIN_FIXATION_MS


@click.command("report")
@click.argument("inputs", nargs=-1, type=PATH)
@click.option("--out", type=PATH, required=True, help="Report folder to write (index.html, PNGs, CSV tables).")
@click.option("--db", type=PATH, default=None, help="Also read every session of a 'gazesite collect' database.")
@click.option(
    "--aoi", type=PATH, default=None, help="Areas of interest: a JSON file (see the docs, guides/report.md, 'Areas of interest')."
)
@click.option(
    "--max-error",
    type=float,
    default=None,
    help="Exclude participants whose calibration check error (screen fractions) is larger, or missing.",
)
@click.option(
    "--min-face",
    type=float,
    default=None,
    help="Exclude participants whose share of frames with a face is smaller (0..1).",
)
@click.option("--pages", type=PATH, default=None, help="The built site, to draw heatmaps over its snapshot images.")
@click.option("--dispersion", type=float, default=DISPERSION_PX, show_default=True, help="I-DT dispersion threshold, px.")
@click.option("--min-fixation", type=int, default=MIN_FIXATION_MS, show_default=True, help="I-DT minimum fixation duration, ms.")
def report(
    inputs: tuple[Path, ...],
    out: Path,
    db: Path | None,
    aoi: Path | None,
    max_error: float | None,
    min_face: float | None,
    pages: Path | None,
    dispersion: float,
    min_fixation: int,
) -> None:
    """Aggregate gaze sample files (JSON/CSV, v1 or v2) and/or a collection database into a static report."""
    from gazesite.report.fixations import FixationSettings
    from gazesite.report.run import ReportConfig, make_report

    config = ReportConfig(
        inputs=inputs,
        out=out,
        db=db,
        aoi=aoi,
        max_error=max_error,
        min_face=min_face,
        pages=pages,
        fixation=FixationSettings(dispersion_px=dispersion, min_duration_ms=min_fixation),
    ).validate()
    result = make_report(config)
    kept = sum(quality.included for quality in result.qualities)
    fixations = sum(len(found) for found in result.fixations.values())
    click.echo(
        f"wrote {out}/index.html: {plural(len(result.qualities), 'participant')} ({kept} included), "
        f"{plural(len(result.pages), 'page')}, {plural(fixations, 'fixation')}"
    )
