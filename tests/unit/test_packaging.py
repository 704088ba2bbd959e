"""The built wheel really carries the templates, assets and default model."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gazesite._build import SKIP_PATTERNS, vendored_sources
from tests.helpers.paths import ROOT_DIR as ROOT

DATA_DIRS = ("templates", "assets", "models/default")


def project_files(folder: str) -> set[str]:
    """Files of a data folder as the wheel should hold them (no npm installs, no dotfiles, no lint configs)."""
    base = ROOT / folder
    found = set()
    for path in base.rglob("*"):
        relative = path.relative_to(ROOT)
        skipped = any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in SKIP_PATTERNS)
        if path.is_file() and not skipped:
            found.add(relative.as_posix())
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("gazesite-*.whl")
    return built


def test_wheel_contains_every_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "gazesite/commands/__init__.py" in names and "gazesite/track/pipeline.py" in names
    for folder in DATA_DIRS:
        expected = project_files(folder)
        assert expected, f"{folder} is empty in the checkout"
        missing = {f for f in expected if f"gazesite/_data/{f}" not in names}
        assert not missing, f"missing from the wheel: {sorted(missing)}"
    assert "gazesite/_data/models/default/model.h5" in names
    assert not any("node_modules" in name for name in names)
    # Of the npm packages exactly what a site ships, with package.json for the version check.
    vendored = {name for name in names if name.startswith("gazesite/_data/assets/vendor/")}
    shipped = {f"gazesite/_data/assets/vendor/{package}/{part}" for package, file in vendored_sources() for part in (file, "package.json")}
    assert vendored == shipped
    assert "gazesite/_data/assets/vendor/stats.js/package.json" in vendored
    assert "gazesite/_data/LICENSE" in names and "gazesite/_data/assets/licenses/Apache-2.0.txt" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "gazesite = gazesite.commands:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300
    )
    code = "from gazesite import paths; print(paths.default_model_dir()); print(paths.templates_dir())"
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    model_dir, templates = (Path(line) for line in result.stdout.split())
    assert model_dir.is_relative_to(site) and (model_dir / "model.h5").is_file()
    assert templates.is_relative_to(site) and templates.is_dir()


@pytest.mark.slow
def test_installed_wheel_builds_a_site_on_its_own(wheel: Path, tmp_path: Path) -> None:
    """A fresh venv with only the wheel installed (its dependencies borrowed, not gazesite) builds a site with notices."""
    venv = tmp_path / "venv"
    # Nothing of this run's environment may point the new interpreter at the checkout.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=env)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True, timeout=300, env=env)
    # The dependencies (TensorFlow and friends) come from this interpreter's site-packages as a plain path: a path
    # line in a .pth file does not run that folder's own .pth files, so the checkout's editable gazesite stays out.
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True, check=True, env=env
    )
    dependencies = sysconfig.get_path("purelib")
    (Path(purelib.stdout.strip()) / "dependencies.pth").write_text(dependencies + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([venv / "bin" / "gazesite", "--version"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120)
    assert where.returncode == 0, where.stderr
    located = subprocess.run(
        [python, "-c", "import gazesite; print(gazesite.__file__)"], capture_output=True, text=True, cwd=elsewhere, env=env
    )
    assert Path(located.stdout.strip()).is_relative_to(venv), located.stdout
    out = elsewhere / "dist"
    result = subprocess.run(
        [venv / "bin" / "gazesite", "build", "--no-probe", "--target", "https://example.org/", "--out", out],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    built = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "build.json", "model/model.json", "app/main.js", "NOTICES.txt"} <= built
    notices = (out / "NOTICES.txt").read_text()
    for name in (p for p in built if p.startswith("vendor/")):
        assert f"- {name}: " in notices, name
    assert "Apache License" in notices and "MIT License" in notices and "Intel License" in notices
