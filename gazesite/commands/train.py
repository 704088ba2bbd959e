"""``gazesite train``: train (or fine-tune) the gaze CNN."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH, synthetic_face_options


@click.command()
@click.option("--data", "data", type=PATH, multiple=True, help="Dataset file (repeatable).")
@click.option("--synthetic", type=int, default=0, show_default=True, help="Also train on N synthetic faces.")
@click.option("--epochs", type=int, default=40, show_default=True, help="Most epochs; early stopping may end sooner.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for data, split and weights.")
@click.option("--init", type=PATH, default=None, help="Fine-tune this model directory instead of starting afresh.")
@click.option("--out", type=PATH, required=True, help="Model directory to write.")
@click.option(
    "--strangers",
    type=int,
    default=0,
    show_default=True,
    help="After training, fit how far to trust the model on N people of the --renderers unlike their training "
    "people, and move its uncalibrated output that far toward the screen's centre (needs --synthetic).",
)
@synthetic_face_options
def train(
    data: tuple[Path, ...],
    synthetic: int,
    epochs: int,
    seed: int,
    init: Path | None,
    out: Path,
    strangers: int,
    renderers: str,
    augment: bool,
) -> None:
    """Train (or with --init, fine-tune) the gaze CNN and write a model directory."""
    from gazesite.data.settings import parse_renderers
    from gazesite.model.settings import TrainConfig

    config = TrainConfig(
        out=out,
        data=data,
        synthetic=synthetic,
        epochs=epochs,
        seed=seed,
        init=init,
        renderers=parse_renderers(renderers),
        augment=augment,
        strangers=strangers,
    ).validate()
    from gazesite.model.training import train as run_training  # TensorFlow: only once the settings are good

    result = run_training(config)
    click.echo(
        f"wrote {result.out}: validation mean Euclidean error {result.validation_error:.4f} of the screen, "
        f"{result.parameters} parameters, {result.epochs_run} epochs"
    )
