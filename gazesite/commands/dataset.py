"""``gazesite dataset synth`` and ``gazesite dataset info``."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH, synthetic_face_options


@click.group()
def dataset() -> None:
    """Create and inspect gaze datasets."""


@dataset.command("synth")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Number of face crops to keep.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; same seed, same file.")
@click.option("--out", type=PATH, required=True, help="Dataset file to write (.json or .json.gz).")
@synthetic_face_options
def synth(count: int, seed: int, out: Path, renderers: str, augment: bool) -> None:
    """Render synthetic faces with known gaze targets into a dataset file."""
    from gazesite.data.settings import SynthConfig, parse_renderers

    config = SynthConfig(count=count, out=out, seed=seed, renderers=parse_renderers(renderers), augment=augment).validate()
    from gazesite.data.dataset import save_dataset
    from gazesite.data.generate import make_dataset

    data = make_dataset(config.count, config.seed, renderers=config.renderers, augment=config.augment)
    save_dataset(data, out)
    rate = data.metadata["detection_rate"]
    click.echo(f"wrote {out}: {len(data)} crops (face found in {rate:.1%} of {data.metadata['frames_rendered']} frames)")


@dataset.command("info")
@click.argument("path", type=PATH)
def info(path: Path) -> None:
    """Check a dataset file and print what it holds."""
    import json

    from gazesite.data.dataset import load_dataset, summarize

    data = load_dataset(path)
    click.echo(json.dumps({**summarize(data), "metadata": data.metadata}, indent=2))
