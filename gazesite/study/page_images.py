"""Same-origin mode: an image of every page of a local site, captured at build time so reports draw on the pages.

The build serves exactly the files it publishes (nothing else of the folder)
from a loopback port of its own, captures each HTML page with the snapshot
capture at each width, and keeps one WebP image per page and width under
dist/pages/. build.json lists them (``study.pages``); `gazesite report --pages
DIST` takes a page's size and image from there, never from what a
participant's page declared.
"""

from __future__ import annotations

import http.server
import logging
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gazesite.study.capture import Capture, capture_many
from gazesite.study.egress import Fence
from gazesite.study.images import describe_bytes, encode_webp
from gazesite.study.local_site import SITE_DIR
from gazesite.urls import allowed_origin, request_path

log = logging.getLogger(__name__)

#: Where the page images go in dist/.
PAGE_IMAGES_DIR = "pages"
#: Suffixes of the files captured as pages.
HTML_SUFFIXES = (".html", ".htm")
#: Most pages captured in one build (each costs a second or two per width); the rest are listed as not captured.
MAX_CAPTURED_PAGES = 200


@dataclass
class PageImages:
    """The page images for dist/, and what build.json records of them."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        """Say it in the build's log and keep it for build.json."""
        self.warnings.append(text)
        log.warning("%s", text)


def page_ids(copies: dict[str, Path]) -> list[str]:
    """The page ids (as the page names them: '/about.html') of the HTML files a site publishes, start page first."""
    prefix = f"{SITE_DIR}/"
    ids = [f"/{name[len(prefix) :]}" for name in copies if name.startswith(prefix) and name.lower().endswith(HTML_SUFFIXES)]
    return sorted(ids, key=lambda page: (page != "/index.html", page))


def capture_site_pages(copies: dict[str, Path], widths: tuple[int, ...], label: str, allow_private: bool = False) -> PageImages:
    """Capture every HTML page of a gathered local site at each width; a page that fails is a warning, not an error.

    The fence lets the build's own loopback server through, and other private addresses only with ``allow_private``.
    """
    result = PageImages()
    ids = page_ids(copies)
    if len(ids) > MAX_CAPTURED_PAGES:
        result.warn(f"{label} has {len(ids)} pages: images of the first {MAX_CAPTURED_PAGES} are kept, the rest draw blank in reports")
        ids = ids[:MAX_CAPTURED_PAGES]
    if not ids:
        return result
    pairs = [(number, page, width) for number, page in enumerate(ids, start=1) for width in sorted(widths)]
    with serving(copies) as base:
        fence = Fence(allow_private=allow_private, allowed={allowed_origin(base)})
        captures = capture_many([(f"{base}{SITE_DIR}{page}", width) for _, page, width in pairs], what=f"--target {label}", fence=fence)
    for (number, page, width), capture in zip(pairs, captures, strict=True):
        if not isinstance(capture, Capture):
            result.warn(f"{label}{page.lstrip('/')} at width {width} could not be captured ({capture}); reports draw it blank")
            continue
        picture = capture.picture
        image = f"{PAGE_IMAGES_DIR}/{width}/page-{number:03d}.webp"
        result.blobs[image] = encode_webp(picture.pixels)
        result.pages.append(
            {"id": page, "width": picture.width, "height": picture.height, "full_height": picture.full_height, "image": image}
        )
    total = sum(len(data) for data in result.blobs.values())
    log.info("page images of %s: %d pages x %d widths, %s", label, len(ids), len(widths), describe_bytes(total))
    return result


@contextmanager
def serving(copies: dict[str, Path]) -> Iterator[str]:
    """Serve exactly ``copies`` (dist path -> file) on a free loopback port; yield the base URL ('http://127.0.0.1:N/')."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(copies))
    thread = threading.Thread(target=server.serve_forever, name="gazesite-page-images", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _handler(copies: dict[str, Path]) -> type[http.server.BaseHTTPRequestHandler]:
    """A GET-only handler that answers with the listed files and 404 for anything else (no folder, no listing)."""

    class CopiesHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = request_path(self.path).lstrip("/")
            source = copies.get(name) or copies.get(f"{name.rstrip('/')}/index.html")
            if source is None:
                self.send_error(HTTPStatus.NOT_FOUND, "File not found")
                return
            body = source.read_bytes()  # gather_site checked it: a regular file inside the folder, within the size bound
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", mimetypes.guess_type(name)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("page images: %s", format % args)

    return CopiesHandler
