"""Capturing hostile targets at build time: bounded in time and height, and one line when it fails."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gazesite.errors import GazesiteError
from gazesite.study import snapshot
from gazesite.study.images import MAX_SNAPSHOT_HEIGHT

from ..helpers.servers import RawServer, trickle

#: A page that grows by 2000 px whenever it is scrolled near its end, for ever (an endless feed).
ENDLESS = b"""<!doctype html><html><body style="margin:0"><div style="height:2000px;background:#cde"></div><script>
addEventListener('scroll', () => {
  if (scrollY + innerHeight < document.body.scrollHeight - 50) return;
  const more = document.createElement('div'); more.style.height = '2000px'; more.style.background = '#edc'; document.body.append(more);
});</script></body></html>"""


@pytest.fixture
def endless_page() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(ENDLESS)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_an_endless_page_stops_at_the_height_limit(endless_page: str) -> None:
    began = time.monotonic()
    (captured,) = snapshot.capture_url(endless_page, (800,))
    assert captured.picture.height == MAX_SNAPSHOT_HEIGHT and captured.picture.cropped
    assert captured.picture.full_height > MAX_SNAPSHOT_HEIGHT
    assert time.monotonic() - began < 60
    site = snapshot.snapshot_site([captured.picture], endless_page)
    assert "cut off" in site.warnings[0] and site.report[0]["cropped"]


def test_a_target_that_never_answers_fails_in_one_line_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "NAVIGATION_TIMEOUT_MS", 3000)
    server = RawServer(trickle)
    try:
        began = time.monotonic()
        with pytest.raises(GazesiteError) as info:
            snapshot.capture_url(server.url, (1280,))  # in a session whose Playwright runs an event loop here
        assert time.monotonic() - began < 20
    finally:
        server.close()
    assert info.value.message.startswith(f"--target {server.url}: the snapshot failed") and "\n" not in info.value.message
