"""The page's modules, read as files: every relative import resolves inside assets/app (a browser would 404 at load)."""

from __future__ import annotations

import re
from pathlib import Path

from gazesite.paths import assets_dir
from tests.helpers.paths import ROOT_DIR

APP = assets_dir() / "app"
IMPORT = re.compile(r"""(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}/[^'"]+)['"]|import\(\s*['"](\.{1,2}/[^'"]+)['"]""")


def relative_imports(module: Path) -> list[str]:
    """The relative specifiers a module imports or re-exports from."""
    return [a or b for a, b in IMPORT.findall(module.read_text())]


def test_every_relative_import_resolves_inside_the_app() -> None:
    modules = sorted(APP.rglob("*.js"))
    assert len(modules) > 20
    unresolved = []
    for module in modules:
        for specifier in relative_imports(module):
            target = (module.parent / specifier).resolve()
            if not target.is_file() or not target.is_relative_to(APP.resolve()):
                unresolved.append(f"{module.relative_to(APP)}: {specifier}")
    assert not unresolved, unresolved


def test_the_pattern_sees_imports_of_every_form(tmp_path: Path) -> None:
    module = tmp_path / "m.js"
    module.write_text(
        "import { a } from './a.js';\nimport {\n  b,\n} from '../b.js';\nexport { c } from './c.js';\nconst d = await import('./d.js');\n"
    )
    assert relative_imports(module) == ["./a.js", "../b.js", "./c.js", "./d.js"]


def test_the_page_tests_use_the_constants_the_build_hands_the_page() -> None:
    """tests/js/helpers.mjs copies the pipeline and calibration constants: they must be Python's, value for value."""
    import json
    import shutil
    import subprocess

    from gazesite.calibration.settings import maths_settings
    from gazesite.track.pipeline import PIPELINE, pipeline_constants

    helpers = ROOT_DIR / "tests" / "js" / "helpers.mjs"
    script = (
        f"const h = await import({json.dumps(helpers.as_uri())}); console.log(JSON.stringify({{pipeline: h.PIPELINE, maths: h.MATHS}}));"
    )
    node = shutil.which("node")
    assert node, "node is needed for the page's unit tests (make setup installs the front-end tools)"
    copied = json.loads(subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True).stdout)
    assert copied["maths"] == json.loads(json.dumps(maths_settings()))
    assert copied["pipeline"] == json.loads(json.dumps(pipeline_constants(PIPELINE)))
