"""The layout's rules, checked on the source: small modules, imports that run one way, tests that share helpers only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gazesite"
#: A module longer than this does more than one job.
MAX_LINES = 400
#: The data path and the model never depend on the build or the benches.
INNER = ("model", "data", "track", "calibration")
OUTER = ("gazesite.site", "gazesite.bench")


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a Python file imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_no_module_is_longer_than_the_limit() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "assets" / "app").rglob("*.js")]
    long = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert len(sources) > 80
    assert not long, long


def test_the_data_path_and_the_model_never_import_the_build_or_the_benches() -> None:
    offenders = {}
    for room in INNER:
        for path in (PACKAGE / room).rglob("*.py"):
            bad = {name for name in imported_modules(path) if name.startswith(OUTER)}
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, offenders


def test_tests_import_shared_helpers_not_other_test_modules() -> None:
    offenders = {}
    for path in (ROOT / "tests").rglob("*.py"):
        bad = {name for name in imported_modules(path) if name.split(".")[-1].startswith(("test_", "conftest"))}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert not offenders, offenders


def test_the_import_reader_resolves_relative_imports(tmp_path: Path) -> None:
    module = PACKAGE / "site" / "build.py"
    assert "gazesite.site.gather" in imported_modules(module)
    assert "tests.helpers.pages" in imported_modules(ROOT / "tests" / "browser" / "test_live.py")
