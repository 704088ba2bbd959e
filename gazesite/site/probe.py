"""Ask the target at build time whether it lets other sites frame it.

A browser does not tell a page why a cross-origin iframe stayed blank, so
the page cannot find out on its own that the target sent
``X-Frame-Options`` or ``Content-Security-Policy: frame-ancestors``. The build
asks instead, and the page shows the answer as its status.

The probe follows redirects (at most ``MAX_REDIRECTS``, to http(s) URLs
only) and records them: the page's Content-Security-Policy must allow
framing every origin on the way, or the browser blocks the frame.

The target is not trusted: the whole probe (name lookup, connecting, TLS,
every read, every redirect) takes at most ``PROBE_TOTAL_SECONDS``, and at
most ``MAX_RESPONSE_HEAD_BYTES`` are read of a response (http.client itself
refuses more than 100 header lines); a redirect's body is never read.
Whatever goes wrong is a warning and an unknown verdict, never a failed build.
"""

from __future__ import annotations

import functools
import http.client
import io
import logging
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from typing import Any

from gazesite.urls import canonical_target, target_url_problem

log = logging.getLogger(__name__)

#: The longest the build waits for the target, all steps together.
PROBE_TOTAL_SECONDS = 10.0
#: The most bytes read of one response: its status line and headers (and what the reader buffers after them).
MAX_RESPONSE_HEAD_BYTES = 64 * 1024
#: The most redirects followed (browsers follow 20; real sites use 1 or 2: http -> https -> www).
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FrameCheck:
    """Whether the target can be framed: True, False, or None when unknown; and where it redirected."""

    frameable: bool | None
    reason: str
    redirects: tuple[str, ...] = ()  # every URL the target redirected to, in order
    final_url: str | None = None  # where the probe ended (None when it got no answer)


class ProbeError(Exception):
    """The target answered in a way the probe will not follow."""


def framing_verdict(x_frame_options: str | None, content_security_policy: str | None) -> FrameCheck:
    """Decide from the two response headers whether a foreign site may frame the page."""
    if x_frame_options:
        value = x_frame_options.strip().lower()
        if value in ("deny", "sameorigin") or value.startswith("allow-from"):
            return FrameCheck(False, f"the target sends X-Frame-Options: {x_frame_options.strip()}")
    for directive in (content_security_policy or "").split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name.lower() == "frame-ancestors":
            tokens = sources.split()
            if "*" not in tokens:
                return FrameCheck(False, f"the target sends Content-Security-Policy: frame-ancestors {sources.strip()}")
    return FrameCheck(True, "the target allows framing")


def probe_target(url: str, total_seconds: float = PROBE_TOTAL_SECONDS) -> FrameCheck:
    """Fetch the target once and read its framing headers, in at most ``total_seconds``; never raises."""
    outcome: list[FrameCheck] = []
    # A worker thread, so that even a name lookup that hangs cannot hold the build.
    worker = threading.Thread(target=lambda: outcome.append(_probe(url, Deadline(total_seconds))), daemon=True)
    worker.start()
    worker.join(total_seconds + 0.5)
    if not outcome:
        return unreachable(url, f"no complete answer within {total_seconds:g} s")
    return outcome[0]


def unreachable(url: str, problem: str) -> FrameCheck:
    """The verdict, and a warning, when the probe got no usable answer."""
    log.warning("could not check whether %s can be framed (%s); the page will try anyway", url, problem)
    return FrameCheck(None, f"the target could not be checked at build time ({problem})")


def _probe(url: str, deadline: Deadline) -> FrameCheck:
    """Request ``url`` and judge its headers; every failure becomes an unknown verdict."""
    redirects = RecordingRedirectHandler()
    opener = urllib.request.build_opener(BoundedHTTPHandler(deadline), BoundedHTTPSHandler(deadline), redirects)
    request = urllib.request.Request(url, headers={"User-Agent": "gazesite-build"})
    try:
        with opener.open(request, timeout=deadline.remaining()) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # an error page still carries the headers
        headers = exc.headers
    except TimeoutError:
        return unreachable(url, f"no complete answer within {deadline.seconds:g} s")
    except Exception as exc:
        return unreachable(url, f"{type(exc).__name__}: {exc}")
    policies = headers.get_all("Content-Security-Policy") or []
    verdict = framing_verdict(headers.get("X-Frame-Options"), ";".join(policies))
    chain = tuple(redirects.chain)
    return replace(verdict, redirects=chain, final_url=chain[-1] if chain else url)


class RecordingRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow at most MAX_REDIRECTS redirects, to http(s) URLs a build could target, and record each."""

    def __init__(self) -> None:
        super().__init__()
        self.chain: list[str] = []

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if len(self.chain) >= MAX_REDIRECTS:
            raise ProbeError(f"more than {MAX_REDIRECTS} redirects")
        problem = target_url_problem(newurl)
        if problem:
            raise ProbeError(f"it redirects to {newurl!r}, which {problem}")
        self.chain.append(canonical_target(newurl))
        fp.close()  # the redirect page's body is never read: it may be endless
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Deadline:
    """A moment after which the probe stops waiting."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; TimeoutError once there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete answer within {self.seconds:g} s")
        return left


class BoundedReader(io.RawIOBase):
    """A socket's incoming bytes, stopping at the deadline and after ``MAX_RESPONSE_HEAD_BYTES``."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self.raw = sock.makefile("rb", buffering=0)  # keeps the socket open while the response is read
        self.deadline = deadline
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.count >= MAX_RESPONSE_HEAD_BYTES:
            raise ProbeError(f"the response head is larger than {MAX_RESPONSE_HEAD_BYTES // 1024} KiB")
        self.sock.settimeout(self.deadline.remaining())  # each read may wait only for what is left
        received = self.raw.readinto(memoryview(buffer)[: MAX_RESPONSE_HEAD_BYTES - self.count]) or 0
        self.count += received
        return received

    def close(self) -> None:
        self.raw.close()
        super().close()


class BoundedSocket:
    """A connected socket whose responses are read through a BoundedReader."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(BoundedReader(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class BoundedConnect:
    """Connect within the deadline (the TLS handshake included) and read through a BoundedSocket afterwards."""

    deadline: Deadline
    timeout: float | None
    sock: Any

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the http.client connection after this mixin in the MRO
        self.deadline = deadline

    def connect(self) -> None:
        self.timeout = self.deadline.remaining()
        super().connect()  # type: ignore[misc]  # the http.client connection after this mixin
        self.sock = BoundedSocket(self.sock, self.deadline)


class BoundedHTTPConnection(BoundedConnect, http.client.HTTPConnection):
    """An HTTP connection bounded by the probe's deadline."""


class BoundedHTTPSConnection(BoundedConnect, http.client.HTTPSConnection):
    """The same for HTTPS."""


class BoundedHTTPHandler(urllib.request.HTTPHandler):
    """urllib's HTTP handler with bounded connections."""

    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(BoundedHTTPConnection, deadline=self.deadline), req)


class BoundedHTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's HTTPS handler with bounded connections (certificates are verified as usual)."""

    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline
        self.tls = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(BoundedHTTPSConnection, deadline=self.deadline), req, context=self.tls)
