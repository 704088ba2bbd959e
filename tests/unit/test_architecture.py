"""The layout's rules, checked on the source: small modules, imports that run one way, tests that share helpers only."""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT_DIR as ROOT

PACKAGE = ROOT / "gazesite"
#: A module longer than this does more than one job.
MAX_LINES = 400
#: The data path and the model never depend on the build, the benches or the command line, not even through a chain.
#: gazesite.samples is listed whether or not it exists yet: a new package there starts under the rule.
INNER = ("gazesite.model", "gazesite.data", "gazesite.track", "gazesite.calibration", "gazesite.samples")
OUTER = ("gazesite.site", "gazesite.bench", "gazesite.commands")
#: The only module outside the command line that may import it.
ENTRY_POINTS = {"gazesite.__main__"}


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute module names a Python file imports, anywhere in it (relative imports resolved against its package).

    ``from x import y`` yields both ``x`` and ``x.y``: y may be a submodule.
    """
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):  # every node: imports inside functions count as much as those at the top
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


def module_name(path: Path, root: Path) -> str:
    """The dotted name of a module file (a package's __init__.py is the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parents(name: str) -> list[str]:
    """The packages Python runs before ``name``: a.b.c → a, a.b."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(package: Path) -> dict[str, list[str]]:
    """Each module of ``package`` and the modules of ``package`` it imports: direct imports first, then the packages they run."""
    root = package.parent
    files = {module_name(path, root): path for path in sorted(package.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        named = {target for target in imported_modules(path, root) if target in files and target != name}
        # 'from x import y' names x and x.y; when x.y is a module, x is only the package Python runs before it.
        implied = {parent for target in named for parent in parents(target) if parent in files} - {name}
        graph[name] = sorted(named - implied) + sorted(implied)
    return graph


def within(name: str, packages: tuple[str, ...]) -> bool:
    """True when ``name`` is one of ``packages`` or inside one."""
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def wrong_way_chains(graph: dict[str, list[str]], inner: tuple[str, ...], outer: tuple[str, ...]) -> list[str]:
    """For each inner module that reaches an outer one, the shortest import chain, as "a → b → c" (shortest first)."""
    chains: list[list[str]] = []
    for start in sorted(name for name in graph if within(name, inner)):
        came_from: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if within(here, outer):
                chain = [here]
                while (previous := came_from[chain[-1]]) is not None:
                    chain.append(previous)
                chains.append(list(reversed(chain)))
                break
            for target in graph[here]:
                if target not in came_from:
                    came_from[target] = here
                    queue.append(target)
    return [" → ".join(chain) for chain in sorted(chains, key=lambda chain: (len(chain), chain))]


def test_no_module_is_longer_than_the_limit() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "assets" / "app").rglob("*.js")]
    long = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert len(sources) > 80
    assert not long, long


def test_the_data_path_and_the_model_never_reach_the_build_the_benches_or_the_commands() -> None:
    graph = import_graph(PACKAGE)
    assert "gazesite.model.training" in graph and "gazesite.site.build" in graph  # the walk saw the package
    chains = wrong_way_chains(graph, INNER, OUTER)
    if chains:
        pytest.fail(f"{', '.join(INNER)} must not reach {', '.join(OUTER)}; these imports do:\n" + "\n".join(chains), pytrace=False)


def test_only_the_entry_point_imports_the_commands() -> None:
    graph = import_graph(PACKAGE)
    offenders = sorted(
        f"{name} → {target}"
        for name, targets in graph.items()
        if name not in ENTRY_POINTS and not within(name, ("gazesite.commands",))
        for target in targets
        if within(target, ("gazesite.commands",))
    )
    assert not offenders, offenders


def test_the_walker_catches_an_indirect_wrong_way_import(tmp_path: Path) -> None:
    package = tmp_path / "fake"
    files = {
        "__init__.py": "",
        "model/__init__.py": "",
        "model/train.py": "def fit():\n    from ..helpers import scale\n    return scale\n",  # function-local, relative
        "helpers.py": "from fake import site\n",  # a submodule named by 'from package import module'
        "site/__init__.py": "",
        "site/render.py": "from fake.model import train\n",  # outer importing inner is fine
        "data.py": "import fake.helpers\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph["fake.model.train"] == ["fake.helpers", "fake"]  # the module it names, then the package Python runs first
    assert wrong_way_chains(graph, ("fake.model", "fake.data"), ("fake.site",)) == [
        "fake.data → fake.helpers → fake.site",
        "fake.model.train → fake.helpers → fake.site",
    ]
    (package / "helpers.py").write_text("from fake.site import render\n")  # the chain names the module, not its package
    assert wrong_way_chains(import_graph(package), ("fake.model",), ("fake.site",)) == [
        "fake.model.train → fake.helpers → fake.site.render"
    ]
    (package / "helpers.py").write_text("import json\n")
    assert wrong_way_chains(import_graph(package), ("fake.model", "fake.data"), ("fake.site",)) == []


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
