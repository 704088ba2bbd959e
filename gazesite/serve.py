"""A local static server for a built site.

http://localhost is a secure context, so the camera works there without TLS.
"""

from __future__ import annotations

import functools
import http.server
import logging
from pathlib import Path

from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the MIME types the page needs and no caching."""

    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",  # instantiateStreaming insists on it
        ".js": "text/javascript",
        ".json": "application/json",
        ".xml": "application/xml",
        ".bin": "application/octet-stream",
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def make_server(directory: Path, port: int = 8000, host: str = "localhost") -> http.server.ThreadingHTTPServer:
    """Return a server for ``directory`` bound to host:port (port 0 picks a free one)."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise GazesiteError(f"{directory} has no index.html: build the site first with 'gazesite build --target URL'")
    handler = functools.partial(SiteHandler, directory=str(directory))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise GazesiteError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port") from None
