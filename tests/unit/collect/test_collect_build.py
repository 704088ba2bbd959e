"""gazesite build --collect: the consent notice, the page settings and the CSP, and hostile consent files."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest

from gazesite.collect.page import render_consent
from tests.helpers import assert_one_line_error, folder_digest, run_build
from tests.helpers.html import TagCollector, parse

TARGET = "https://example.org/page"
COLLECT = "https://collect.example.net/gazesite/batches?x=1"


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def collecting_site(tmp_path_factory: pytest.TempPathFactory, cache_env: dict[str, str]) -> Path:
    out = tmp_path_factory.mktemp("built") / "dist"
    result = run_build(cache_env, out, "--target", TARGET, "--collect", COLLECT, "--study", "pilot-2")
    assert result.returncode == 0, result.stderr
    return out


def csp_of(page: TagCollector) -> dict[str, list[str]]:
    (csp,) = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp is not None
    return {d.split()[0]: d.split()[1:] for d in csp.split(";")}


def config_of(page: TagCollector) -> dict:
    return json.loads(page.script_texts[0])


def test_connect_src_names_the_collect_origin_only(collecting_site: Path) -> None:
    directives = csp_of(parse(collecting_site / "index.html"))
    assert directives["connect-src"] == ["'self'", "data:", "https://collect.example.net"]
    assert directives["default-src"] == ["'none'"] and directives["frame-src"] == ["https://example.org"]


def test_page_settings_carry_the_collect_url_and_protocol(collecting_site: Path) -> None:
    from gazesite.collect.protocol import BATCH_FORMAT, BATCH_VERSION, MAX_BODY_BYTES
    from gazesite.samples.schema import MAX_PAGES

    config = config_of(parse(collecting_site / "index.html"))
    collect = config["collect"]
    assert collect["url"] == COLLECT and collect["origin"] == "https://collect.example.net" and collect["study"] == "pilot-2"
    assert collect["batch"]["format"] == BATCH_FORMAT and collect["batch"]["version"] == BATCH_VERSION
    assert collect["batch"]["maxBytes"] == MAX_BODY_BYTES and collect["batch"]["maxPages"] == MAX_PAGES
    assert config["study"]["name"] == "pilot-2"
    manifest = json.loads((collecting_site / "build.json").read_text())
    assert manifest["collect"] == COLLECT and manifest["study"]["study"] == "pilot-2"


def test_the_server_takes_every_study_name_a_build_takes() -> None:
    from gazesite.collect.protocol import STUDY_PATTERN
    from gazesite.study.target import STUDY_NAME

    assert STUDY_NAME is STUDY_PATTERN


def test_the_default_notice_says_what_is_sent_and_that_images_never_are(collecting_site: Path) -> None:
    page = (collecting_site / "index.html").read_text()
    notice = html.unescape(re.sub(r"<[^>]+>", "", page.split('<div id="consent-text">')[1].split("</div>")[0]))
    for words in (
        "gaze samples",
        "calibration",
        "screen and window size",
        "never sends images or video",
        "collect.example.net",
        "decline",
    ):
        assert words in notice, words
    tags = parse(collecting_site / "index.html").tags
    buttons = {a.get("id"): a for t, a in tags if t == "button"}
    assert "disabled" in buttons["consent-accept"] and "disabled" in buttons["consent-decline"]  # until the code listens
    assert any(a.get("id") == "collect-status" for _, a in tags)


def test_a_build_without_collect_has_no_notice_and_sends_nothing(tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_build(cache_env, tmp_path / "d", "--target", TARGET)
    assert result.returncode == 0, result.stderr
    page = parse(tmp_path / "d" / "index.html")
    ids = {a.get("id") for _, a in page.tags}
    assert not ids & {"consent", "consent-accept", "collect-status"}
    assert config_of(page)["collect"] is None and csp_of(page)["connect-src"] == ["'self'", "data:"]


def test_two_collecting_builds_are_byte_identical(collecting_site: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_build(cache_env, tmp_path / "again", "--target", TARGET, "--collect", COLLECT, "--study", "pilot-2")
    assert result.returncode == 0, result.stderr
    assert folder_digest(tmp_path / "again") == folder_digest(collecting_site)


HOSTILE_CONSENT = """# Consent <script>alert(1)</script>

Hello <img src=x onerror=alert(2)> and </div></section><script src="https://evil.example/x.js"></script>

[click](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:x) [ok](https://study.example.org/privacy?a=1&b="2")
[quote](https://x.example/"onmouseover="evil) **bold <b>in</b> bold** *em* _em2_ snake_case_word
[mail](mailto:study@example.org) {{ config }} {% raw %} ${alert(5)} \\u003cscript\\u003e
"""


def test_a_hostile_consent_file_renders_as_text_and_safe_links(tmp_path: Path, cache_env: dict[str, str]) -> None:
    consent = tmp_path / "consent.md"
    consent.write_text(HOSTILE_CONSENT)
    out = tmp_path / "d"
    result = run_build(cache_env, out, "--target", TARGET, "--collect", COLLECT, "--consent", str(consent))
    assert result.returncode == 0, result.stderr
    page = parse(out / "index.html")
    scripts = [a for t, a in page.tags if t == "script"]
    assert all((a.get("src") or "").startswith(("vendor/", "app/")) or a.get("type") == "application/json" for a in scripts)
    assert not [t for t, a in page.tags if t == "img"]
    for _, attributes in page.tags:
        assert not [name for name in attributes if name.startswith("on")], attributes
    links = [a for t, a in page.tags if t == "a"]
    assert sorted(a["href"] or "" for a in links) == [  # a valueless href reads as "", which no expected link is
        'https://study.example.org/privacy?a=1&b="2"',
        'https://x.example/"onmouseover="evil',
        "mailto:study@example.org",
    ]
    assert all(a["rel"] == "noopener noreferrer" for a in links)
    text = (out / "index.html").read_text()
    notice = text.split('<div id="consent-text">')[1].split('<p class="consent-destination">')[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in notice and "&lt;img src=x onerror=alert(2)&gt;" in notice
    assert "click" in notice and "javascript:" in notice  # shown as text, not as a link
    assert "<strong>bold &lt;b&gt;in&lt;/b&gt; bold</strong>" in notice and "<em>em</em>" in notice and "<em>em2</em>" in notice
    assert "snake_case_word" in notice and "{{ config }}" in notice


def test_render_consent_supports_only_paragraphs_emphasis_and_links() -> None:
    assert render_consent("one\nline\n\n  \n\ntwo") == "<p>one line</p>\n<p>two</p>"
    assert render_consent("# Title\n- item") == "<p># Title - item</p>"  # anything else stays plain text
    assert (
        render_consent("[**a**](https://e.org)")
        == '<p><a href="https://e.org" target="_blank" rel="noopener noreferrer"><strong>a</strong></a></p>'
    )
    assert render_consent("*" * 5000 + "x").startswith("<p>")  # no runaway matching


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--collect", "ftp://collect.example.net/"], "--collect"),
        (["--collect", "http://collect.example.net/"], "must be https://"),
        (["--collect", "https://user:pw@collect.example.net/"], "user name or password"),
        (["--collect", "https://collect.example.net/#x"], "fragment"),
        (["--collect", "collect.example.net"], "--collect"),
        (["--consent", "consent.md"], "only a build that collects"),
        (["--collect", COLLECT, "--consent", "missing.md"], "--consent"),
        (["--collect", COLLECT, "--consent", "binary.md"], "not UTF-8"),
        (["--collect", COLLECT, "--consent", "control.md"], "control characters"),
        (["--collect", COLLECT, "--consent", "huge.md"], "larger than"),
        (["--collect", COLLECT, "--consent", "empty.md"], "empty"),
        (["--collect", COLLECT, "--consent", "."], "not a regular file"),
        (["--study", "../etc"], "--study"),
        (["--study", "x" * 65], "--study"),
    ],
)
def test_bad_collect_options_are_one_line_errors_and_write_nothing(
    args: list[str], message: str, tmp_path: Path, cache_env: dict[str, str]
) -> None:
    (tmp_path / "consent.md").write_text("Fine.")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00x")
    (tmp_path / "control.md").write_text("bell \x07 here")
    (tmp_path / "huge.md").write_text("a" * (64 * 1024 + 1))
    (tmp_path / "empty.md").write_text(" \n\n ")
    args = [str(tmp_path / a) if a.endswith(".md") or a == "." else a for a in args]
    result = run_build(cache_env, tmp_path / "out", "--target", TARGET, *args)
    assert_one_line_error(result, message)
    assert not (tmp_path / "out").exists()


def test_local_collect_urls_may_be_plain_http_and_idn_hosts_are_punycoded(tmp_path: Path, cache_env: dict[str, str]) -> None:
    result = run_build(cache_env, tmp_path / "d", "--target", TARGET, "--collect", "https://bücher.example/c")
    assert result.returncode == 0, result.stderr
    page = parse(tmp_path / "d" / "index.html")
    assert csp_of(page)["connect-src"][-1] == "https://xn--bcher-kva.example"
    assert config_of(page)["collect"]["url"] == "https://xn--bcher-kva.example/c"
    result = run_build(cache_env, tmp_path / "e", "--target", TARGET, "--collect", "http://localhost:8080/")
    assert result.returncode == 0, result.stderr
