"""Fixtures for tests that drive Debian's Chromium against really built and served sites.

Sites are built with the real CLI and served by ``gazesite serve`` in a
subprocess on a free port (fail loudly if it dies); the target is a local
test page on another origin (127.0.0.1 vs localhost).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gazesite import chromium as browser

from ..helpers import env_with_cache
from ..helpers import gazesite as gazesite_cli
from ..helpers.pages import SiteServer

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
        def do_GET(self) -> None:
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
    # Bound to port 0 here, not to a port found free and released: a parallel worker cannot take it in between.
    server = TargetServer(0)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _target_handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()


# ---------------------------------------------------------------- built sites


@pytest.fixture(scope="session")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CLI's environment, with a conversion cache private to this test run."""
    return env_with_cache(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def build_site(tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str]):
    """Return a function that builds a site with the real CLI and returns its folder."""

    def build(target: str, *options: str, out: Path | None = None) -> Path:
        out = out or tmp_path_factory.mktemp("site") / "dist"
        result = gazesite_cli("build", "--target", target, "--out", out, *options, env=cli_env)
        assert result.returncode == 0, f"gazesite build failed:\n{result.stderr}"
        return out

    return build


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

    launch.browsers = browsers  # type: ignore[attr-defined]  # read by close_test_pages
    yield launch
    for launched in browsers:
        launched.close()


@pytest.fixture(autouse=True)
def close_test_pages(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the browser contexts a test opened: a page left open keeps its live loop running through later tests.

    Contexts that wider fixtures opened (a module's shared page) exist before this fixture starts and stay open.
    """
    if "launch_chromium" not in request.fixturenames:
        yield
        return
    browsers = request.getfixturevalue("launch_chromium").browsers
    before = {id(context) for launched in browsers for context in launched.contexts}
    yield
    for launched in browsers:
        for context in launched.contexts:
            if id(context) not in before:
                context.close()


@pytest.fixture(scope="session")
def chromium(launch_chromium: Any) -> Any:
    """One Chromium with a fake camera (the default moving pattern) for tests that need no face video."""
    return launch_chromium(*browser.camera_args())
