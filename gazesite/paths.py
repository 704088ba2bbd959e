"""Locate the project's data folders in a source checkout and in an installed wheel.

In a checkout (or an editable install) ``templates/``, ``assets/`` and
``models/`` sit next to the ``gazesite`` package. A wheel copies them into
``gazesite/_data/`` (see ``setup.py``), because a wheel can only install files
inside packages.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_WHEEL_DATA = PACKAGE_DIR / "_data"
_CHECKOUT_ROOT = PACKAGE_DIR.parent


def data_root() -> Path:
    """Return the folder that holds ``templates/``, ``assets/`` and ``models/``."""
    if (_WHEEL_DATA / "templates").is_dir():
        return _WHEEL_DATA
    return _CHECKOUT_ROOT


def templates_dir() -> Path:
    """Return the folder of jinja2 page templates."""
    return data_root() / "templates"


def assets_dir() -> Path:
    """Return the folder of first-party JS/CSS and the npm pins."""
    return data_root() / "assets"


def default_model_dir() -> Path:
    """Return the shipped default model's folder."""
    return data_root() / "models" / "default"


def default_cache_dir() -> Path:
    """Return where converted models are cached between builds."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gazesite"
