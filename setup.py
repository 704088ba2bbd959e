"""Copy the top-level data folders into the wheel as ``gazesite/_data``.

A wheel can only install files inside packages, while the project keeps
``templates/``, ``assets/`` and ``models/default/`` at the top level;
``gazesite.paths`` looks in ``_data`` first, then in the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_DIRS = ("templates", "assets", "models/default")
SKIP = shutil.ignore_patterns("node_modules", "__pycache__", "*.pyc", ".*")


class BuildPyWithData(build_py):
    """build_py that also copies the project's data folders into the package."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "gazesite" / "_data"
        for name in DATA_DIRS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=SKIP, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithData})
