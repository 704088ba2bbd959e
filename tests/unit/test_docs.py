"""The README stays short and points at what exists; the docs name only real commands, targets and pictures.

The documentation site itself (assets/docs/) is checked by its strict build in ``make lint``: broken links,
anchors and includes fail it. These tests cover what that build cannot see: the README (outside the site),
the command and make target names the texts quote, and the pictures the browser tests write.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tests.helpers.paths import ROOT_DIR as ROOT

README = ROOT / "README.md"
PAGES = ROOT / "assets" / "docs" / "pages"
PICTURES = PAGES / "pictures"
MAX_README_LINES = 150

#: Texts whose quoted commands must exist: the README, every docs page, the contributing guide.
TEXTS = [README, ROOT / ".github" / "CONTRIBUTING.md", *sorted(PAGES.rglob("*.md"))]

#: Inline links and images, [text](target) / ![alt](target), and reference definitions, [name]: target.
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
HTML_LINK = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
MAKE = re.compile(r"\bmake[ \t]+([a-z][a-z0-9-]*)")
# "gazesite build", ".venv/bin/gazesite serve": a word after the program name, not gazesite/ or gazesite.x paths.
GAZESITE = re.compile(r"(?<![\w.-])gazesite((?:[ \t]+[a-z][a-z0-9-]*)+)")


def code_of(text: str) -> list[str]:
    """The fenced blocks and inline code spans of a Markdown text (where commands are quoted)."""
    blocks = FENCE.findall(text)
    rest = FENCE.sub("", text)
    return blocks + CODE_SPAN.findall(rest)


def relative_links(text: str) -> list[str]:
    """Every link target of a Markdown text that is a path in the repository (no scheme, not only an anchor)."""
    text = FENCE.sub("", text)
    text = CODE_SPAN.sub("", text)
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text) + HTML_LINK.findall(text)
    return [t for t in targets if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t) and not t.startswith("#")]


def make_targets() -> set[str]:
    """The targets the Makefile defines (rules, not variable assignments)."""
    targets: set[str] = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.%/$()-][^:=#\s]*(?:\s+[^:=#\s]+)*)\s*:(?![:=])", line)
        if match and not line.startswith("\t"):
            targets.update(match.group(1).split())
    return targets


def test_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines; keep it at {MAX_README_LINES} and move the rest into assets/docs/pages/"
    )


def test_every_relative_link_in_the_readme_resolves() -> None:
    links = relative_links(README.read_text())
    assert links, "the README links into the docs"
    missing = [link for link in links if not (ROOT / link.split("#", 1)[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_readme_pictures_and_doc_links_point_into_the_site() -> None:
    links = relative_links(README.read_text())
    pictures = {link.removeprefix("assets/docs/pages/pictures/") for link in links if link.startswith("assets/docs/pages/pictures/")}
    # The participant flow and the report, as the study guide shows them (the browser tests write these files).
    flow = {f"participant-{step}.png" for step in ("consent", "guide", "task", "page")}
    assert flow | {"report.png"} <= pictures, (
        f"the README shows the participant flow and the report: missing {sorted(flow | {'report.png'} - pictures)}"
    )
    assert any(link.startswith("assets/docs/pages/guides/") for link in links), "the README links to the guides"


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_make_target_named_exists(path: Path) -> None:
    named = {target for code in code_of(path.read_text()) for target in MAKE.findall(code)}
    unknown = sorted(named - make_targets())
    assert not unknown, f"{path.relative_to(ROOT)} names make targets the Makefile does not define: {unknown}"


def test_the_readme_names_its_quick_start() -> None:
    code = "\n".join(code_of(README.read_text()))
    assert "make build TARGET=https://example.com/" in code and "make test" in code


def command_problems(words: list[str], rest: str, group: click.Group) -> str | None:
    """Why ``gazesite <words> <rest>`` is not a command line of ``group`` (subcommands are followed), or None."""
    command: click.Command = group
    said = ["gazesite"]
    for word in words:
        if not isinstance(command, click.Group):
            return None  # the rest are arguments (gazesite serve dist)
        sub = command.commands.get(word)
        if sub is None:
            return f"'{' '.join([*said, word])}': {' '.join(said)} has no command {word!r} (it has: {', '.join(sorted(command.commands))})"
        said.append(word)
        command = sub
    # Options straight after a group that needs a subcommand: an old spelling such as "gazesite bench --accuracy".
    option = rest.split(maxsplit=1)[0] if rest.strip() else ""
    if not isinstance(command, click.Group) or command.invoke_without_command:
        return None
    if option.startswith("-") and option not in ("-h", "--help"):
        return f"'{' '.join(said)} {option}': {' '.join(said)} needs a command first ({', '.join(sorted(command.commands))})"
    return None


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_gazesite_command_named_exists(path: Path) -> None:
    try:
        from gazesite.commands import cli
    except ModuleNotFoundError as error:
        if error.name != "gazesite.commands":
            raise
        pytest.skip("gazesite.commands does not exist yet")
    problems = set()
    for code in code_of(path.read_text()):
        for match in GAZESITE.finditer(code):
            rest = code[match.end() :].split("\n", 1)[0]
            problem = command_problems(match.group(1).split(), rest, cli)
            if problem:
                problems.add(problem)
    assert not problems, f"{path.relative_to(ROOT)} names commands that do not exist: {sorted(problems)}"


def test_the_browser_tests_write_the_pictures_the_docs_show() -> None:
    written = set()
    for test in (ROOT / "tests" / "browser").rglob("*.py"):
        written.update(re.findall(r"docs_picture\([^,]+,\s*\"([^\"]+)\"", test.read_text()))
    assert written, "the browser tests save the docs' pictures (make docs-pictures)"
    missing = sorted(name for name in written if not (PICTURES / name).is_file())
    assert not missing, f"pictures the browser tests write but {PICTURES.relative_to(ROOT)} lacks: {missing}"
    makefile = (ROOT / "Makefile").read_text()
    assert "GAZESITE_DOCS_PICTURES=$(CURDIR)/assets/docs/pages/pictures " in makefile, "make docs-pictures writes into the pages' pictures"


def test_the_study_names_the_docs_allow_are_the_ones_build_and_server_accept() -> None:
    """The docs once allowed '.' in study names, which the build and the server refuse: they must say the pattern."""
    from gazesite.samples.schema import STUDY_PATTERN

    assert STUDY_PATTERN.pattern == r"[A-Za-z0-9_-]{1,64}", "the docs below describe this pattern: update them with it"
    assert (
        "`[A-Za-z0-9_-]`" in (PAGES / "reference" / "batch.md").read_text() and "1-64 of" in (PAGES / "reference" / "batch.md").read_text()
    )
    assert "| `--study` | 1 to 64 of `A-Z a-z 0-9 _ -` |" in (PAGES / "reference" / "limits.md").read_text()
    for text in TEXTS:
        for name in re.findall(r"--study[ =]([^\s`\\\]]+)", text.read_text()):
            if name != "NAME":
                assert STUDY_PATTERN.fullmatch(name), f"{text.relative_to(ROOT)} shows --study {name}, which the build refuses"
