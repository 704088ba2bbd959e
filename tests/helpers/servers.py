"""Real local servers on free ports that misbehave the way hostile or broken targets do."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

#: The longest any misbehaving answer lasts, so a client without bounds ends too (and its test fails, not hangs).
MISBEHAVE_SECONDS = 30.0


class RawServer:
    """A TCP server on 127.0.0.1 that answers every connection with ``respond(connection, server)``."""

    def __init__(self, respond: Callable[[socket.socket, RawServer], None]) -> None:
        self.respond = respond
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)  # the request; its content does not matter
                self.respond(connection, self)
            except OSError:  # the client gave up: that is the point
                pass

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


def trickle(connection: socket.socket, server: RawServer) -> None:
    """A status line, then one header byte every 2 s: each read succeeds, the response never ends."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    deadline = time.monotonic() + MISBEHAVE_SECONDS
    while time.monotonic() < deadline and not server.stopped.wait(2.0):
        connection.sendall(b"a")


def huge_header(connection: socket.socket, server: RawServer) -> None:
    """One 10 MB header line."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 10_000_000 + b"\r\n\r\n")


def many_headers(connection: socket.socket, server: RawServer) -> None:
    """200 small headers."""
    connection.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Header-%d: v\r\n" % i for i in range(200)) + b"\r\n")


def bad_status_line(connection: socket.socket, server: RawServer) -> None:
    """Not HTTP at all."""
    connection.sendall(b"HELLO THERE\r\n\r\n")


class RedirectServer:
    """An HTTP server on 127.0.0.1 that redirects ``/start`` to ``http://localhost:PORT/final``, another origin,
    ``/loop/N`` to ``/loop/N+1`` for ever, and ``/ftp`` to an ftp:// URL; it records every path it is asked for."""

    def __init__(self) -> None:
        import http.server

        self.paths: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.paths.append(self.path)
                if self.path == "/final":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<h1>final</h1>")
                    return
                self.send_response(302)
                self.send_header("Location", owner.location(self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def location(self, path: str) -> str:
        if path.startswith("/loop/"):
            return f"/loop/{int(path.rsplit('/', 1)[1]) + 1}"
        if path == "/ftp":
            return f"ftp://127.0.0.1:{self.port}/file"
        return f"http://localhost:{self.port}/final"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
