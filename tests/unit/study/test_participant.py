"""gazesite build's participant-flow options: --researcher-view, --finish-url, --task, --task-file, --seconds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gazesite.calibration.settings import POOR_ERROR
from gazesite.samples.schema import PARTICIPANT_ID, PARTICIPANT_PARAMS
from gazesite.study.participant import HEAD_GUIDE, MAX_REDOS, MAX_SECONDS, MAX_TASK_BYTES, MAX_TASK_TEXT
from tests.helpers import assert_one_line_error, run_build
from tests.helpers.html import parse

TARGET = "https://example.org/page"
COLLECT = "https://collect.example.net/batches"
FINISH = "https://app.prolific.com/submissions/complete?cc=C0DE"


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


def config_of(out: Path) -> dict:
    """The page settings a build wrote into index.html."""
    return json.loads(parse(out / "index.html").script_texts[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--finish-url", FINISH], "--finish-url: only a study build (--collect URL)"),
        (["--seconds", "60"], "--seconds: only a study build"),
        (["--task", "Look."], "--task: only a study build"),
        (["--researcher-view"], "--researcher-view: only a study build"),
        (["--collect", COLLECT, "--finish-url", "javascript:alert(1)"], "--finish-url 'javascript:alert(1)': must be an absolute http"),
        (["--collect", COLLECT, "--finish-url", "ftp://example.org/done"], "--finish-url"),
        (["--collect", COLLECT, "--finish-url", "https://u:p@example.org/"], "user name or password"),
        (["--collect", COLLECT, "--seconds", "0"], f"--seconds 0: expected a whole number of seconds from 1 to {MAX_SECONDS}"),
        (["--collect", COLLECT, "--seconds", "-5"], "--seconds -5"),
        (["--collect", COLLECT, "--seconds", str(MAX_SECONDS + 1)], f"--seconds {MAX_SECONDS + 1}"),
        (["--collect", COLLECT, "--seconds", "ten"], "--seconds 'ten': expected a whole number of seconds"),
        (["--collect", COLLECT, "--task", " \n "], "--task: is empty"),
        (["--collect", COLLECT, "--task", "x" * (MAX_TASK_TEXT + 1)], f"longer than {MAX_TASK_TEXT} characters"),
        (["--collect", COLLECT, "--task", "bell \x07"], "--task: holds control characters"),
        (["--collect", COLLECT, "--task", "a", "--task-file", "task.md"], "--task and --task-file: give one of them"),
        (["--collect", COLLECT, "--task-file", "missing.md"], "--task-file"),
        (["--collect", COLLECT, "--task-file", "link.md"], "is a symbolic link"),
        (["--collect", COLLECT, "--task-file", "huge.md"], "is larger than"),
        (["--collect", COLLECT, "--task-file", "binary.md"], "not UTF-8"),
        (["--collect", COLLECT, "--task-file", "."], "not a regular file"),
    ],
)
def test_bad_participant_options_are_one_line_errors_and_write_nothing(
    args: list[str], message: str, tmp_path: Path, cache_env: dict[str, str]
) -> None:
    (tmp_path / "task.md").write_text("Find the price.")
    (tmp_path / "link.md").symlink_to(tmp_path / "task.md")
    (tmp_path / "huge.md").write_text("a" * (MAX_TASK_BYTES + 1))
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00x")
    args = [str(tmp_path / a) if a.endswith(".md") or a == "." else a for a in args]
    result = run_build(cache_env, tmp_path / "out", "--target", TARGET, *args)
    assert_one_line_error(result, message)
    assert not (tmp_path / "out").exists()


def test_a_study_build_carries_the_participant_flow_and_its_task_escaped(tmp_path: Path, cache_env: dict[str, str]) -> None:
    task = tmp_path / "task.md"
    task.write_text("Find the **price**.\n\n<script>alert(1)</script> [help](https://example.org/help) [x](javascript:alert(1))\n")
    out = tmp_path / "study"
    result = run_build(
        cache_env, out, "--target", TARGET, "--collect", COLLECT, "--task-file", str(task), "--seconds", "90", "--finish-url", FINISH
    )
    assert result.returncode == 0, result.stderr
    config = config_of(out)
    assert config["participant"] == {
        "flow": True,
        "params": list(PARTICIPANT_PARAMS),
        "pattern": PARTICIPANT_ID.pattern,
        "finishUrl": FINISH,
        "seconds": 90,
        "maxRedos": MAX_REDOS,
        "flushMs": config["participant"]["flushMs"],
        "guide": HEAD_GUIDE,
    }
    assert config["calibration"]["poorError"] == POOR_ERROR
    html = (out / "index.html").read_text()
    task_html = html[html.index('<div id="task-text">') : html.index("</div>", html.index('<div id="task-text">'))]
    assert "<p>Find the <strong>price</strong>.</p>" in task_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in task_html and "<script>" not in task_html
    assert '<a href="https://example.org/help" target="_blank" rel="noopener noreferrer">help</a>' in task_html
    assert "javascript:" not in task_html.replace("[x](javascript:alert(1))", "")  # a javascript: link stays text
    assert 'id="finish"' in html and 'id="guide"' in html and "90 seconds" in html
    manifest = json.loads((out / "build.json").read_text())
    assert manifest["participant"] == {"view": "participant", "finish_url": FINISH, "seconds": 90, "task": True}

    # --researcher-view: the same study shows the heatmap, the dot and the panel, and no participant screens.
    pilot = tmp_path / "pilot"
    result = run_build(cache_env, pilot, "--target", TARGET, "--collect", COLLECT, "--researcher-view")
    assert result.returncode == 0, result.stderr
    assert config_of(pilot)["participant"]["flow"] is False
    html = (pilot / "index.html").read_text()
    assert 'id="guide"' not in html and 'id="finish"' not in html and '<div id="researcher-tools">' in html
