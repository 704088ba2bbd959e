"""Targets whose origin is not what the URL says at first sight: the built page still frames them, with no CSP violation.

Each target is a real local server on a free port. Chromium shows it in the
frame only if the page's Content-Security-Policy names the origin it ends
up on, in the form Chromium accepts there.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gazesite import chromium as browser

from ..helpers import gazesite as gazesite_cli
from ..helpers.pages import watch

LANDING_PAGE = b"<!doctype html><html><head><title>Landing</title></head><body><h1 id='landed'>landed</h1></body></html>"
#: bücher.test in the form Chromium resolves and the CSP names.
IDN_HOST = "xn--bcher-kva.test"


class RecordingTarget:
    """An HTTP server on 127.0.0.1 that records (path, Host) of each request; /start redirects to http://localhost:PORT/landing."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append((self.path, self.headers.get("Host", "")))
                if self.path == "/start":
                    self.send_response(302)
                    self.send_header("Location", f"http://localhost:{owner.port}/landing")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(LANDING_PAGE)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, path: str, timeout: float = 30.0) -> str:
        """Wait until ``path`` was requested; return the Host header it came with."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for seen, host in self.requests:
                if seen == path:
                    return host
            time.sleep(0.1)
        raise AssertionError(f"the target never got a request for {path}; it got {self.requests}")


@pytest.fixture
def target() -> Iterator[RecordingTarget]:
    server = RecordingTarget()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def open_site(chromium: Any, url: str) -> tuple[Any, Any]:
    """Open a built page and wait until it has loaded everything."""
    page = chromium.new_context().new_page()
    problems = watch(page)
    page.goto(url)
    browser.wait_ready(page)
    return page, problems


def assert_framed(page: Any, target: RecordingTarget, path: str) -> str:
    """The target's page loaded inside the iframe; return the Host it was asked for with."""
    host = target.wait_for(path)
    assert page.frame_locator("#target").locator("#landed").inner_text(timeout=30_000) == "landed"
    return host


def test_a_target_that_redirects_to_another_origin_is_framed(
    chromium: Any, build_site: Any, serve_site: Any, target: RecordingTarget
) -> None:
    dist = build_site(f"http://127.0.0.1:{target.port}/start")  # the build's probe follows the redirect
    target.requests.clear()
    page, problems = open_site(chromium, serve_site(dist).url)
    assert assert_framed(page, target, "/landing") == f"localhost:{target.port}"
    problems.assert_none()  # no "Framing ... violates the following Content Security Policy directive"


def test_an_idn_target_is_framed(launch_chromium: Any, build_site: Any, serve_site: Any, target: RecordingTarget) -> None:
    # Python cannot resolve the name, so the build does not probe; Chromium maps it to the local server.
    dist = build_site(f"http://bücher.test:{target.port}/landing", "--no-probe")
    chromium = launch_chromium(*browser.camera_args(), f"--host-resolver-rules=MAP {IDN_HOST} 127.0.0.1")
    page, problems = open_site(chromium, serve_site(dist).url)
    assert assert_framed(page, target, "/landing") == f"{IDN_HOST}:{target.port}"
    problems.assert_none()


def test_an_ipv6_target_is_refused_at_build_time(tmp_path: Path) -> None:
    result = gazesite_cli("build", "--no-probe", "--target", "http://[::1]:8080/", "--out", tmp_path / "dist")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: --target 'http://[::1]:8080/'") and "host name" in lines[0]
    assert not (tmp_path / "dist").exists()


def test_chromium_refuses_an_ipv6_literal_as_a_csp_source(chromium: Any) -> None:
    """Why the build refuses IPv6 targets: should Chromium ever accept them in frame-src, this fails and the refusal can go."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Security-Policy", "default-src 'none'; frame-src http://[::1]:8080")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>csp</title>")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = chromium.new_context().new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.wait_for_timeout(500)
    finally:
        server.shutdown()
        server.server_close()
    assert any("invalid source: 'http://[::1]:8080'" in text for text in messages), messages
