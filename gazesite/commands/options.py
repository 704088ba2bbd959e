"""Options more than one command shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from gazesite.data.faces import DEFAULT_RENDERERS, TRAINING_RENDERERS

F = TypeVar("F", bound=Callable[..., object])

#: A path option or argument, handed to the command as a Path.
PATH = click.Path(path_type=Path)
RENDERERS_HELP = f"Who draws the synthetic faces, comma-separated: {', '.join(TRAINING_RENDERERS)}; chunks take turns."
AUGMENT_HELP = "Degrade synthetic frames like cheap webcams: gamma, contrast, colour cast, blur, noise, JPEG, rescaling, vignetting."


def synthetic_face_options(command: F) -> F:
    """--renderers and --augment: how ``dataset synth`` and ``train --synthetic`` draw their faces."""
    command = click.option("--augment", is_flag=True, help=AUGMENT_HELP)(command)
    return click.option("--renderers", default=",".join(DEFAULT_RENDERERS), show_default=True, help=RENDERERS_HELP)(command)


def plural(number: int, noun: str) -> str:
    """ "1 page", "2 pages"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
