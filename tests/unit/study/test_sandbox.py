"""Build-time captures run Chromium with its sandbox where it can have one, and say so where it cannot."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError

from gazesite.chromium import launch_options
from gazesite.study import capture


class FakeChromium:
    """Records each launch's arguments; refuses a sandboxed launch when told to, as Chromium does without user namespaces."""

    def __init__(self, refuse_sandbox: bool) -> None:
        self.refuse_sandbox = refuse_sandbox
        self.launches: list[list[str]] = []

    async def launch(self, **options: Any) -> str:
        self.launches.append(list(options["args"]))
        if self.refuse_sandbox and "--no-sandbox" not in options["args"]:
            raise PlaywrightError("No usable sandbox!\nmore detail")
        return "browser"


class FakePlaywright:
    def __init__(self, refuse_sandbox: bool) -> None:
        self.chromium = FakeChromium(refuse_sandbox)


def launch(monkeypatch: pytest.MonkeyPatch, uid: int, refuse_sandbox: bool) -> FakeChromium:
    monkeypatch.setattr(capture.os, "geteuid", lambda: uid)
    playwright = FakePlaywright(refuse_sandbox)
    # On a thread of its own: its event loop must not meet one a browser test left running in this worker.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, capture._launch(playwright, ("--lang=en",), "capture")).result() == "browser"
    return playwright.chromium


def test_the_sandbox_option_only_drops_no_sandbox() -> None:
    assert "--no-sandbox" in launch_options()["args"]
    with_sandbox = launch_options("--lang=en", sandbox=True)["args"]
    assert "--no-sandbox" not in with_sandbox and "--lang=en" in with_sandbox


def test_a_user_gets_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    chromium = launch(monkeypatch, 1000, refuse_sandbox=False)
    assert len(chromium.launches) == 1 and "--no-sandbox" not in chromium.launches[0]


def test_without_a_usable_sandbox_it_says_so_and_captures_without(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=capture.log.name):
        chromium = launch(monkeypatch, 1000, refuse_sandbox=True)
    assert ["--no-sandbox" in args for args in chromium.launches] == [False, True]
    assert "sandbox is not available here (No usable sandbox!)" in caplog.text


def test_root_captures_without_the_sandbox_and_says_so(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=capture.log.name):
        chromium = launch(monkeypatch, 0, refuse_sandbox=False)
    assert len(chromium.launches) == 1 and "--no-sandbox" in chromium.launches[0]
    assert "without Chromium's sandbox" in caplog.text
