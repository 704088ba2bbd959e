"""Where the checkout is, for tests that read its files (the README, the Makefile, models/default)."""

from __future__ import annotations

from pathlib import Path

#: The repository root: tests/helpers/paths.py is two folders below it.
ROOT_DIR = Path(__file__).resolve().parents[2]
