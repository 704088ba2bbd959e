"""``gazesite inspect``: what gazesite sees in a model."""

from __future__ import annotations

from pathlib import Path

import click

from gazesite.commands.options import PATH


@click.command()
@click.argument("path", type=PATH)
def inspect(path: Path) -> None:
    """Show what gazesite sees in a model and whether it can build a site with it."""
    from gazesite.model.inspection import inspect_model

    report = inspect_model(path)
    click.echo(report.to_text())
    if not report.buildable:
        raise SystemExit(1)
