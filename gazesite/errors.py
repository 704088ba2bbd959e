"""One exception family for every error a user can cause.

Deriving from ``click.ClickException`` means the CLI prints a one-line
``Error: ...`` message and exits non-zero, never a traceback.
"""

from __future__ import annotations

import click


class GazesiteError(click.ClickException):
    """A problem with the user's input or environment, explained in one line."""

    def __init__(self, message: str) -> None:
        # Keep the promise of one line even when a library hands us a long message.
        super().__init__(" ".join(str(message).split()))


class DatasetError(GazesiteError):
    """A dataset file that is missing, malformed or empty."""


class ModelError(GazesiteError):
    """A model directory or file that is missing, corrupt or unusable."""


class ConfigError(GazesiteError):
    """One or more invalid settings; the message names each setting and value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))
