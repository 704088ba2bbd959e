"""Pages in Chromium: the built site served by the real CLI, page problems, frames sent into the page."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazesite import chromium as browser
from gazesite.chromium import CALIBRATE_IN_PAGE, process_in_page, rgba_payload, track_in_page

__all__ = [
    "CALIBRATE_IN_PAGE",
    "PageProblems",
    "SiteServer",
    "docs_picture",
    "open_ready",
    "process_in_page",
    "rgba_payload",
    "track_in_page",
    "watch",
]

#: Where the browser tests save the README's pictures of what they drive (make docs-pictures sets it); unset: none.
DOCS_PICTURES = os.environ.get("GAZESITE_DOCS_PICTURES")


def docs_picture(page: Any, name: str, full_page: bool = False) -> None:
    """Save a screenshot of ``page`` as ``name`` for the README, when GAZESITE_DOCS_PICTURES names a folder."""
    if DOCS_PICTURES:
        page.screenshot(path=str(Path(DOCS_PICTURES) / name), full_page=full_page)


class SiteServer:
    """``gazesite serve DIR`` in a subprocess on a free port."""

    def __init__(self, directory: Path) -> None:
        # Port 0: serve binds a free port itself and names it in its first line, so parallel test
        # workers never race for a port found free and released before the server binds it.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gazesite", "serve", str(directory), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else ""
        found = re.search(r"at http://[^:/]+:(\d+)/", line)
        if found is None:
            self.process.kill()
            raise RuntimeError(f"gazesite serve did not say where it listens within 30 s: {line!r} {self.process.stderr.read()}")
        self.port = int(found.group(1))

    @property
    def url(self) -> str:
        self.check_alive()
        return f"http://localhost:{self.port}/"

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            assert self.process.stderr is not None  # opened with stderr=PIPE
            raise RuntimeError(f"gazesite serve died with {self.process.returncode}: {self.process.stderr.read()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class PageProblems:
    """Console errors and uncaught exceptions of a page, minus the target's own."""

    errors: list[str] = field(default_factory=list)

    def assert_none(self) -> None:
        assert not self.errors, "\n".join(self.errors)


def watch(page: Any, ignore_origin: str | None = None) -> PageProblems:
    """Collect the page's uncaught exceptions and console errors."""
    problems = PageProblems()
    page.on("pageerror", lambda exc: problems.errors.append(f"uncaught: {exc}"))

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        location = message.location.get("url", "") if message.location else ""
        if ignore_origin and location.startswith(ignore_origin):
            return
        problems.errors.append(f"console error: {message.text} ({location})")

    page.on("console", on_console)
    return problems


def open_ready(chromium: Any, url: str, **context_options: Any) -> tuple[Any, PageProblems]:
    """Open the site and wait until window.gazesite.ready has resolved."""
    page = chromium.new_context(**context_options).new_page()
    problems = watch(page)
    page.goto(url)
    browser.wait_ready(page)
    return page, problems
