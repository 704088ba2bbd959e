"""A local static server for a built site.

http://localhost is a secure context, so the camera works there without TLS.
It serves regular files inside the folder and nothing else: no directory
listings, and no symbolic link that leads out of the folder.
"""

from __future__ import annotations

import functools
import http.server
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gazesite.bounded import InputError, resolve_path
from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the MIME types the page needs and no caching."""

    extensions_map = {  # noqa: RUF012 - the base class declares it per instance; this copy is never mutated
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",  # instantiateStreaming insists on it
        ".js": "text/javascript",
        ".json": "application/json",
        ".xml": "application/xml",
        ".bin": "application/octet-stream",
    }

    def site_file(self, url_path: str) -> Path | None:
        """Return the regular file inside the served folder that ``url_path`` names, or None."""
        root = Path(self.directory)  # resolved by make_server
        mapped = Path(super().translate_path(url_path))  # drops the query and any '..'
        try:
            if resolve_path(mapped) == root:
                mapped = root / "index.html"
            resolved = resolve_path(mapped)  # where a symbolic link really leads
        except InputError:  # a link loop: nothing to serve
            return None
        return resolved if resolved.is_relative_to(root) and resolved.is_file() else None

    def translate_path(self, path: str) -> str:
        """Map a URL path to its file; anything else maps to no path at all."""
        file = self.site_file(path)
        return str(file) if file is not None else ""

    def send_head(self) -> Any:
        """Answer 404 for anything but a regular file inside the folder; never list a directory."""
        if self.site_file(self.path) is None:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

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
    handler = functools.partial(SiteHandler, directory=str(directory.resolve()))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise GazesiteError(f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port") from None
