"""Capturing hostile targets at build time: bounded in time and height, and one line when it fails."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gazesite.errors import GazesiteError
from gazesite.samples.schema import MAX_SNAPSHOT_HEIGHT
from gazesite.study import capture, snapshot
from gazesite.study.capture import Capture, capture_many
from gazesite.study.egress import Fence, allowed_origin

from ..helpers.servers import RawServer, trickle

#: A page that grows by 2000 px whenever it is scrolled near its end, for ever (an endless feed).
ENDLESS = b"""<!doctype html><html><body style="margin:0"><div style="height:2000px;background:#cde"></div><script>
addEventListener('scroll', () => {
  if (scrollY + innerHeight < document.body.scrollHeight - 50) return;
  const more = document.createElement('div'); more.style.height = '2000px'; more.style.background = '#edc'; document.body.append(more);
});</script></body></html>"""


#: A page that stops every timer once loaded: a capture that waits on setTimeout would wait for ever.
NO_TIMERS = b"""<!doctype html><html><body style="margin:0;background:#c00"><div style="height:1500px"></div>
<script>window.setTimeout = () => 0; window.requestAnimationFrame = () => 0;</script></body></html>"""
#: A page whose script never returns after load: every evaluation in it waits for ever.
BUSY = b"""<!doctype html><html><body><p>busy</p><script>
addEventListener('load', () => { const now = Date.now; window.setTimeout(() => { for (;;) { now(); } }, 50); });
</script></body></html>"""


class Pages:
    """A loopback server of fixed pages by path, recording every path asked for; ``redirects`` answer 302."""

    def __init__(self, pages: dict[str, bytes], redirects: dict[str, str] | None = None) -> None:
        self.asked: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.asked.append(self.path)
                if self.path in (redirects or {}):
                    self.send_response(302)
                    self.send_header("Location", (redirects or {})[self.path])
                    self.end_headers()
                    return
                body = pages.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve_pages() -> Iterator[Any]:
    """Start page servers; all stop at the end of the test."""
    started: list[Pages] = []

    def start(pages: dict[str, bytes], redirects: dict[str, str] | None = None) -> Pages:
        started.append(Pages(pages, redirects))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def endless_page(serve_pages: Any) -> str:
    return str(serve_pages({"/": ENDLESS}).url)


#: Test targets live on loopback, which the fence refuses unless told otherwise.
LOOPBACK = Fence(allow_private=True)


def test_an_endless_page_stops_at_the_height_limit(endless_page: str) -> None:
    began = time.monotonic()
    (captured,) = snapshot.capture_url(endless_page, (800,), LOOPBACK)
    assert captured.picture.height == MAX_SNAPSHOT_HEIGHT and captured.picture.cropped
    assert captured.picture.full_height > MAX_SNAPSHOT_HEIGHT
    assert time.monotonic() - began < 60
    site = snapshot.snapshot_site([captured.picture], endless_page)
    assert "cut off" in site.warnings[0] and site.report[0]["cropped"]


def test_a_target_that_never_answers_fails_in_one_line_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "NAVIGATION_TIMEOUT_MS", 3000)
    server = RawServer(trickle)
    try:
        began = time.monotonic()
        with pytest.raises(GazesiteError) as info:
            snapshot.capture_url(server.url, (1280,), LOOPBACK)  # in a session whose Playwright runs an event loop here
        assert time.monotonic() - began < 20
    finally:
        server.close()
    assert info.value.message.startswith(f"--target {server.url}: the snapshot failed") and "\n" not in info.value.message


def test_a_page_that_stops_its_timers_is_captured_within_the_bound(serve_pages: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "EVALUATE_TIMEOUT_S", 3.0)
    server = serve_pages({"/": NO_TIMERS})
    began = time.monotonic()
    (captured,) = snapshot.capture_url(server.url, (640,), LOOPBACK)
    assert time.monotonic() - began < 30
    assert captured.picture.height == 1500 and captured.picture.pixels[700, 300].tolist() == [0, 0, 204]


def test_a_busy_page_fails_within_the_deadline_and_the_next_page_is_still_captured(
    serve_pages: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture, "EVALUATE_TIMEOUT_S", 2.0)
    monkeypatch.setattr(capture, "JOB_DEADLINE_S", 8.0)
    server = serve_pages({"/busy": BUSY, "/": NO_TIMERS})
    began = time.monotonic()
    busy, calm = capture_many([(server.url + "busy", 640), (server.url, 640)], what="test", fence=LOOPBACK)
    assert time.monotonic() - began < 40
    assert isinstance(busy, str) and "did not answer in time at width 640 (each script 2 s, the whole capture 8 s)" in busy
    assert isinstance(calm, Capture) and calm.picture.height == 1500


def test_the_fence_keeps_redirects_and_frames_off_private_addresses(serve_pages: Any) -> None:
    inside = serve_pages({"/": b"<p>an intranet page</p>"})
    frames = f"<iframe src='{inside.url}'></iframe><iframe src='http://169.254.169.254/latest/meta-data/'></iframe>"
    target = serve_pages({"/": f"<!doctype html><p>public</p>{frames}".encode()}, redirects={"/go": inside.url})
    fence = Fence(allowed={allowed_origin(target.url)})  # the target stands in for a public site; nothing else is allowed
    (captured,) = snapshot.capture_url(target.url, (640,), fence)
    assert captured.picture.height >= 1
    with pytest.raises(GazesiteError) as info:
        snapshot.capture_url(target.url + "go", (640,), fence)
    host, port = allowed_origin(inside.url)
    assert f"the page led to {host}:{port} is {host}, a private, loopback or link-local address" in info.value.message
    assert inside.asked == [] and set(fence.refused) == {allowed_origin(inside.url), ("169.254.169.254", 80)}


def test_a_private_target_is_refused_before_any_browser_starts(serve_pages: Any) -> None:
    server = serve_pages({"/": b"<p>hi</p>"})
    with pytest.raises(GazesiteError) as info:
        snapshot.capture_url(server.url, (640,), Fence())
    assert info.value.message == (
        f"--target {server.url}: 127.0.0.1:{allowed_origin(server.url)[1]} is 127.0.0.1, a private, loopback or link-local address "
        "(--allow-private lets it through)"
    )
    assert server.asked == []
