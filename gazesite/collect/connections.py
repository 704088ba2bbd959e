"""Connections before aiohttp sees them: caps per address and in all, a deadline for the headers, quiet EMFILE.

Slowloris holds connections open by sending headers slowly or never; each
one holds a file descriptor. So every connection is counted in (per address
and in all, never past half the descriptor limit) or refused with a prebuilt
503, and one that has not delivered its request's headers within
``HEADER_SECONDS`` is closed.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import math
import resource
import socket
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from gazesite.collect.clients import client_key
from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)

#: Longest wait for a request's headers, from the connection opening or the previous answer (slowloris).
HEADER_SECONDS = 10.0
#: Longest wait for a request body once its headers arrived (a slow sender holds a connection no longer).
BODY_SECONDS = 10.0
#: Connections one address may hold at once (a lab of 20 browsers behind one NAT holds 20-40); lifted
#: with --trust-proxy, where every connection comes from the proxy.
MAX_CONNECTIONS_PER_ADDRESS = 64
#: Connections in all, at most; never more than half the process's file-descriptor limit (``connection_cap``).
MAX_CONNECTIONS = 4096
#: What a client should wait before retrying when the connection caps are full.
BUSY_RETRY_SECONDS = 2


def connection_cap(soft_limit: int) -> int:
    """The cap on connections in all for a soft file-descriptor limit: half of it, at most MAX_CONNECTIONS."""
    # The other half: the database, its WAL, the log, and refused connections not yet closed (accept_backlog).
    if soft_limit < 0:  # RLIM_INFINITY
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft_limit // 2))


def accept_backlog(cap: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts in one go: an eighth of the cap."""
    # Refused connections take a few loop turns to close, and every turn may accept a burst: a few bursts
    # must fit in the half of the descriptors the cap leaves free, or accept() meets EMFILE.
    return max(8, min(1024, cap // 8))


def raise_descriptor_limit() -> int:
    """Raise the soft file-descriptor limit to what MAX_CONNECTIONS needs, within the hard one; return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * MAX_CONNECTIONS
    if 0 <= soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # not allowed here: serve within the limit there is
            pass
    return soft


def plain_answer(status: str, reason: str, origin: str, retry_after: int | None = None) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, written to a transport before aiohttp sees a request."""
    # CORS headers for the allowed origin, so the page can read the reason and Retry-After.
    body = (json.dumps({"ok": False, "error": reason}) + "\n").encode()
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", f"Content-Length: {len(body)}", "Connection: close"]
    lines += ["Server: gazesite-collect", f"Access-Control-Allow-Origin: {origin}", "Access-Control-Expose-Headers: Retry-After"]
    lines += ["Vary: Origin"] + ([f"Retry-After: {retry_after}"] if retry_after else [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class ConnectionLimits:
    """Open connections per address and in all, and the guard of each connection (found by its transport)."""

    def __init__(self, per_address: int | None, total: int, origin: str) -> None:
        self.per_address, self.total = per_address, total
        self.busy_answer = plain_answer("503 Service Unavailable", "too many connections: retry later", origin, BUSY_RETRY_SECONDS)
        self.slow_answer = plain_answer("408 Request Timeout", f"the request headers did not arrive within {HEADER_SECONDS:g} s", origin)
        self.open: Counter[str] = Counter()
        self.count = 0
        self.refused = 0
        self.guards: dict[asyncio.BaseTransport, ConnectionGuard] = {}

    def admit(self, address: str) -> bool:
        """Count a new connection from ``address`` in, or return False if it does not fit the caps."""
        if self.count >= self.total or (self.per_address is not None and self.open[address] >= self.per_address):
            self.refused += 1
            return False
        self.open[address] += 1
        self.count += 1
        return True

    def release(self, address: str) -> None:
        """Count a closed connection out."""
        self.count -= 1
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]

    def guard_of(self, transport: asyncio.BaseTransport | None) -> ConnectionGuard | None:
        """The guard of the connection a request came on (None outside ``serve``)."""
        return self.guards.get(transport) if transport is not None else None


class ConnectionGuard(asyncio.Protocol):
    """aiohttp's protocol for one connection, wrapped: refused past the caps, closed without a request in HEADER_SECONDS."""

    # The deadline runs from the connection opening or the previous answer; everything else is passed on.

    def __init__(self, make_handler: Callable[[], asyncio.Protocol], limits: ConnectionLimits) -> None:
        self.make_handler, self.limits = make_handler, limits
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.address = ""
        self.busy = 0  # requests the application is handling on this connection
        self.received = False  # bytes arrived since the deadline was set: a request has begun
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection (or answer 503 and close it, without creating anything) and start the deadline."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = client_key(str(peer[0]) if peer else "unknown", [], 0)
        if not self.limits.admit(self.address):
            transport.write(self.limits.busy_answer)
            transport.close()
            return
        self.limits.guards[transport] = self
        self.inner = self.make_handler()
        self.inner.connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.received = False
        self.timer = asyncio.get_running_loop().call_later(HEADER_SECONDS, self._expire)

    def _expire(self) -> None:
        self.timer = None
        if self.busy or self.transport is None or self.transport.is_closing():
            return
        if self.received:  # a request began and never finished its headers; an idle keep-alive just closes
            self.transport.write(self.limits.slow_answer)
        self.transport.close()

    def request_started(self) -> None:
        """The headers of a request arrived: the body has its own deadline (BODY_SECONDS)."""
        self.busy += 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def request_finished(self) -> None:
        """The answer is on its way: the next request's headers have HEADER_SECONDS from now."""
        self.busy -= 1
        if not self.busy and self.transport is not None and not self.transport.is_closing():
            self._arm()

    def data_received(self, data: bytes) -> None:
        """Pass the bytes on to aiohttp."""
        if self.inner is not None:
            self.received = True
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        """Pass the end of the client's stream on."""
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        """Pass flow control on."""
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        """Pass flow control on."""
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        """Count the connection out and let aiohttp clean up."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.inner is not None:
            self.limits.release(self.address)
            if self.transport is not None:
                self.limits.guards.pop(self.transport, None)
            self.inner.connection_lost(exc)
            self.inner = None


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket (port 0 picks a free one); GazesiteError names the problem."""
    try:
        # create_server sets SO_REUSEADDR, so a restart after a crash can take the same port at once.
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET, backlog=1024)
    except (OSError, OverflowError) as exc:
        raise GazesiteError(
            f"cannot listen on {host}:{port} ({getattr(exc, 'strerror', None) or exc}): choose another --host or --port"
        ) from None


class QuietResourceErrors:
    """Out of descriptors or memory at accept(): a line in the log at most once a second, never a traceback."""

    # asyncio retries by itself, but reports every failed accept of a burst of up to ``backlog``.

    def __init__(self) -> None:
        self.last, self.suppressed = -math.inf, 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """The event loop's exception handler."""
        exc = context.get("exception")
        if not (isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last < 1:
            self.suppressed += 1
            return
        more = f" ({self.suppressed} more like it since the last report)" if self.suppressed else ""
        log.warning("%s: %s%s", context.get("message", "socket error"), exc.strerror, more)
        self.last, self.suppressed = now, 0
