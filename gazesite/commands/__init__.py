"""The ``gazesite`` command line: one module per command, each a thin shell over the library.

A command turns its options into its stage's settings object, validates it,
and calls one library function. Heavy modules (TensorFlow, OpenCV, aiohttp,
Playwright) are imported inside the command functions, so ``gazesite --help``
answers at once.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from gazesite import __version__
from gazesite.commands.bench import bench
from gazesite.commands.build import build
from gazesite.commands.collect import collect
from gazesite.commands.convert import convert
from gazesite.commands.dataset import dataset
from gazesite.commands.inspect import inspect
from gazesite.commands.report import report
from gazesite.commands.serve import serve
from gazesite.commands.train import train
from gazesite.errors import GazesiteError


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


for command in (dataset, train, convert, inspect, build, serve, collect, report, bench):
    cli.add_command(command)


def main() -> None:
    """Run the CLI (the console-script entry point)."""
    cli()
