"""The built wheel really carries the templates, assets and default model."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA_DIRS = ("templates", "assets", "models/default")


def project_files(folder: str) -> set[str]:
    """Files of a data folder as the wheel should hold them (no npm installs, no dotfiles)."""
    base = ROOT / folder
    found = set()
    for path in base.rglob("*"):
        relative = path.relative_to(ROOT)
        if path.is_file() and "node_modules" not in relative.parts and not any(p.startswith(".") for p in relative.parts):
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
    assert "gazesite/cli.py" in names and "gazesite/pipeline.py" in names
    for folder in DATA_DIRS:
        expected = project_files(folder)
        assert expected, f"{folder} is empty in the checkout"
        missing = {f for f in expected if f"gazesite/_data/{f}" not in names}
        assert not missing, f"missing from the wheel: {sorted(missing)}"
    assert "gazesite/_data/models/default/model.h5" in names
    assert not any("node_modules" in name for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "gazesite = gazesite.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300)
    code = "from gazesite import paths; print(paths.default_model_dir()); print(paths.templates_dir())"
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    model_dir, templates = (Path(line) for line in result.stdout.split())
    assert model_dir.is_relative_to(site) and (model_dir / "model.h5").is_file()
    assert templates.is_relative_to(site) and templates.is_dir()
