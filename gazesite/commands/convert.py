"""``gazesite convert``: a trained model to a TensorFlow.js layers model."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH
from gazesite.model.settings import QUANTIZATIONS


@click.command()
@click.argument("model", type=PATH)
@click.option("--out", type=PATH, required=True, help="TF.js model directory to write.")
@click.option("--quantize", default="uint8", show_default=True, help=f"Weight type: {', '.join(QUANTIZATIONS)}.")
@click.option("--shard-size", type=int, default=4 * 1024 * 1024, show_default=True, help="Largest weight file, in bytes.")
def convert(model: Path, out: Path, quantize: str, shard_size: int) -> None:
    """Convert a trained model to a TensorFlow.js layers model."""
    from gazesite.model.settings import ConvertConfig

    config = ConvertConfig(model=model, out=out, quantize=quantize, shard_size=shard_size).validate()
    from gazesite.model.convert import convert as run_conversion  # TensorFlow: only once the settings are good

    report = run_conversion(config)
    click.echo(
        f"wrote {report.out}: {report.weight_bytes} weight bytes in {report.shards} shard(s), {report.quantize}; "
        f"|difference| from float on {report.samples} validation crops: max {report.max_abs_diff:.2e}, mean {report.mean_abs_diff:.2e}"
    )
