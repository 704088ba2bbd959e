"""What the page shows when something is wrong: a visible status, never an uncaught error."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gazesite.chromium import wait_state as state_becomes

from ..helpers.pages import watch


@pytest.fixture(scope="module")
def site(build_site: Any, target_server: Any) -> Path:
    return build_site(target_server.url())


def open_page(browser: Any, url: str) -> tuple[Any, Any]:
    page = browser.new_context().new_page()
    problems = watch(page)
    page.goto(url)
    return page, problems


def test_camera_denied(launch_chromium: Any, site: Path, serve_site: Any) -> None:
    # A camera exists, but without --use-fake-ui-for-media-stream nobody grants access.
    browser = launch_chromium("--use-fake-device-for-media-stream")
    page, problems = open_page(browser, serve_site(site).url)
    state_becomes(page, "camera-denied")
    assert "denied" in page.locator("#status").inner_text().lower()
    problems.assert_none()


def test_no_camera(launch_chromium: Any, site: Path, serve_site: Any) -> None:
    browser = launch_chromium("--use-fake-ui-for-media-stream")  # access granted, but no device
    page, problems = open_page(browser, serve_site(site).url)
    state_becomes(page, "no-camera")
    problems.assert_none()


def test_target_that_refuses_framing(chromium: Any, build_site: Any, serve_site: Any, target_server: Any) -> None:
    dist = build_site(target_server.url("/deny"))
    page, problems = open_page(chromium, serve_site(dist).url)
    page.evaluate("window.gazesite.ready")
    state_becomes(page, "frame-refused")
    assert page.locator("#frame-refused").is_visible()
    assert "X-Frame-Options" in page.locator("#frame-refused").inner_text() + page.locator("#status").inner_text()
    # The browser itself reports the refusal as a console error of the target's; that one is expected.
    unexpected = [e for e in problems.errors if "X-Frame-Options" not in e]
    assert not unexpected, unexpected


def test_missing_model_file(chromium: Any, site: Path, serve_site: Any, tmp_path: Path) -> None:
    broken = tmp_path / "dist"
    shutil.copytree(site, broken)
    for shard in (broken / "model").glob("*.bin"):
        shard.unlink()
    page, problems = open_page(chromium, serve_site(broken).url)
    state_becomes(page, "model-missing")
    assert "model" in page.locator("#status").inner_text().lower()
    outcome = page.evaluate("window.gazesite.ready.then(() => 'resolved', error => 'rejected')")
    assert outcome == "rejected"
    # The 404 for the shard is a network error the browser logs; nothing else may be.
    unexpected = [e for e in problems.errors if "404" not in e and "Failed to load resource" not in e]
    assert not unexpected, unexpected
