"""Fixtures for tests that drive Debian's Chromium against really built and served sites.

Sites are built with the real CLI and served by ``gazesite serve`` in a
subprocess on a free port (fail loudly if it dies); the target is a local
test page on another origin (127.0.0.1 vs localhost).
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gazesite import browser

PROCESS_IN_PAGE = browser.PROCESS_IN_PAGE
rgba_payload = browser.rgba_payload


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gazesite_cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "gazesite", *map(str, args)], capture_output=True, text=True, env=env, timeout=900)


# ---------------------------------------------------------------- target pages


@dataclass
class TargetServer:
    """A local page to overlay, on its own origin, recording every request it gets."""

    port: int
    requests: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path


TARGET_PAGE = b"""<!doctype html><html><head><title>Target</title></head>
<body style="margin:0;font:16px sans-serif"><h1>A page under study</h1>
<p>Some text to look at.</p><div style="height:2000px"></div></body></html>"""


def _target_handler(server: TargetServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            server.requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if self.path.startswith("/deny"):
                self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            self.wfile.write(TARGET_PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def target_server() -> Iterator[TargetServer]:
    server = TargetServer(free_port())
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", server.port), _target_handler(server))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()


# ---------------------------------------------------------------- built sites


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CLI's environment, with a conversion cache private to this test run."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="session")
def build_site(tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str]):
    """Return a function that builds a site with the real CLI and returns its folder."""

    def build(target: str, *options: str, out: Path | None = None) -> Path:
        out = out or tmp_path_factory.mktemp("site") / "dist"
        result = gazesite_cli("build", "--target", target, "--out", out, *options, env=cli_env)
        assert result.returncode == 0, f"gazesite build failed:\n{result.stderr}"
        return out

    return build


class SiteServer:
    """``gazesite serve DIR`` in a subprocess on a free port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gazesite", "serve", str(directory), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gazesite serve exited with {self.process.returncode}: {self.process.stderr.read()}")
            try:
                socket.create_connection(("localhost", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gazesite serve did not start listening within 30 s") from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        self.check_alive()
        return f"http://localhost:{self.port}/"

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"gazesite serve died with {self.process.returncode}: {self.process.stderr.read()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def serve_site() -> Iterator[Any]:
    """Return a function that serves a built folder; every server stops at the end."""
    servers: list[SiteServer] = []

    def serve(directory: Path) -> SiteServer:
        server = SiteServer(directory)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not browser.CHROMIUM.exists():
        pytest.fail(f"{browser.CHROMIUM} is missing: install Debian's chromium (bash .ci/run does)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def launch_chromium(playwright_instance: Any) -> Iterator[Any]:
    """Return a function that launches Chromium with extra args; all close at the end."""
    browsers: list[Any] = []

    def launch(*extra_args: str) -> Any:
        launched = browser.launch(playwright_instance, *extra_args)
        browsers.append(launched)
        return launched

    yield launch
    for launched in browsers:
        launched.close()


@pytest.fixture(scope="session")
def chromium(launch_chromium: Any) -> Any:
    """One Chromium with a fake camera (the default moving pattern) for tests that need no face video."""
    return launch_chromium(*browser.camera_args())


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
