"""Build hooks (pyproject's ``[tool.setuptools.cmdclass]``): the top-level data folders go into the package.

A wheel can only install files inside packages, while the project keeps
``templates/``, ``assets/`` and ``models/default/`` at the top level;
``gazesite.paths`` looks in ``_data`` first, then in the checkout. Of the npm
packages in ``assets/node_modules`` only the files a site ships (and their
package.json, for the version check) go in, under ``_data/assets/vendor/``.
"""

from __future__ import annotations

import ast
import fnmatch
import shutil
from pathlib import Path

from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent.parent
DATA_DIRS = ("templates", "assets", "models/default")
DATA_FILES = ("LICENSE",)
#: What stays out of the package: npm installs (their shipped files go in separately), caches, dotfiles, lint configs,
#: and assets/docs/ (the documentation site's sources and pictures: nothing a built site ships). Patterns match any
#: one part of a path, so no folder of templates/, assets/ or models/default/ that a site needs may be named docs.
SKIP_PATTERNS = ("node_modules", "__pycache__", "*.pyc", ".*", "eslint.config.js", "docs")


def vendored_sources() -> list[tuple[str, str]]:
    """(npm package, file in it) for every file a site ships, read from gazesite/site/vendor.py without importing it."""
    # setup.py runs before gazesite's dependencies are installed, so read the VendorSpec(...) table from the syntax tree.
    tree = ast.parse((ROOT / "gazesite" / "site" / "vendor.py").read_text())
    table = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and node.value is not None
        and "VENDOR_FILES" in ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
    )
    calls = [call for call in ast.walk(table) if isinstance(call, ast.Call) and ast.unparse(call.func) == "VendorSpec"]
    return [(ast.literal_eval(call.args[1]), ast.literal_eval(call.args[2])) for call in calls]


class BuildPyWithData(build_py):
    """build_py that also copies the project's data folders into the package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads templates/, assets/ and models/ from the checkout itself
            return
        target = Path(self.build_lib) / "gazesite" / "_data"
        for name in DATA_DIRS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(*SKIP_PATTERNS), dirs_exist_ok=True)
        for name in DATA_FILES:
            shutil.copy2(ROOT / name, target / name)
        copy_vendored(target / "assets" / "vendor")


def copy_vendored(destination: Path) -> None:
    """Copy the shipped npm files (and their package.json) from a checkout's node_modules, or an sdist's vendor/."""
    node_modules = ROOT / "assets" / "node_modules"
    packages = node_modules if node_modules.is_dir() else ROOT / "assets" / "vendor"
    for package, file in vendored_sources():
        for part in (file, "package.json"):
            source = packages / package / part
            if not source.is_file():
                raise SystemExit(f"{source} is missing: run 'make setup' (npm ci in assets/) before building a package")
            (destination / package / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / package / part)


class SdistWithData(sdist):
    """sdist that also carries the data folders, so a wheel built from it (``python -m build``) is complete."""

    def make_distribution(self) -> None:
        for name in DATA_DIRS:
            for path in sorted((ROOT / name).rglob("*")):
                relative = path.relative_to(ROOT)
                if path.is_file() and not any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in SKIP_PATTERNS):
                    self.filelist.files.append(relative.as_posix())
        self.filelist.files.extend(DATA_FILES)
        super().make_distribution()

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        copy_vendored(Path(base_dir) / "assets" / "vendor")
