"""Where a capturing browser may connect: a filtering proxy between build-time Chromium and the network.

A snapshot loads a page the builder names, and that page decides what else
loads: redirects, iframes, images, scripts. Without a fence a build machine
would fetch http://169.254.169.254/ (a cloud's metadata service) or an
intranet page for anyone who controls the target, and publish the
screenshot. Playwright's request routing sees no redirects, so the fence is
a proxy that every connection goes through (Chromium is started with
``--proxy-server`` and no bypass, loopback included). For each request it
resolves the host once, refuses it when any address is private, loopback,
link-local or otherwise not global (unless allowed), and connects to the
address it checked, so a second DNS answer cannot swap it (DNS rebinding).

Plain HTTP requests are forwarded one per connection (``Connection: close``),
so a kept-alive proxy connection never carries a request to another host
past the check; HTTPS goes through ``CONNECT``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from gazesite.urls import allowed_origin, proxy_request_target

log = logging.getLogger(__name__)

#: Longest request head (request line and headers) the proxy reads.
MAX_HEAD_BYTES = 64 * 1024
#: Seconds to read a request head, to resolve a host, to connect to it.
HEAD_TIMEOUT_S = 30.0
RESOLVE_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 15.0
#: Bytes per read while piping.
CHUNK = 64 * 1024


class Refused(Exception):
    """A destination the fence does not let through; the message says why."""


@dataclass
class Fence:
    """What the proxy lets through: global addresses, or any with ``allow_private``, and a few exact origins."""

    allow_private: bool = False
    allowed: set[tuple[str, int]] = field(default_factory=set)  # (host, port) let through whatever they resolve to
    refused: dict[tuple[str, int], str] = field(default_factory=dict)  # (host, port) -> why, for every private one refused

    async def resolve(self, host: str, port: int) -> str:
        """The address to connect to for host:port; Refused when the fence does not let it through."""
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise Refused(f"{host} does not resolve ({type(exc).__name__})") from None
        return self.judge(host, port, [str(info[4][0]) for info in infos])

    def judge(self, host: str, port: int, addresses: list[str]) -> str:
        """The address to connect to among those host:port resolved to; Refused when any is not let through."""
        if not addresses:
            raise Refused(f"{host} does not resolve")
        if (host, port) not in self.allowed and not self.allow_private:
            for address in addresses:
                if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
                    why = f"{host}:{port} is {address}, a private, loopback or link-local address (--allow-private lets it through)"
                    self.refused[(host, port)] = why
                    raise Refused(why)
        return addresses[0]

    def check(self, url: str) -> str | None:
        """Why the fence refuses a URL's host, or None: for the target itself, before a browser starts."""
        host, port = allowed_origin(url)
        # On a thread of its own, bounded in time: getaddrinfo has no timeout, and the caller may run an event loop.
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gazesite-resolve")
        try:
            infos = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout=RESOLVE_TIMEOUT_S)
        except (OSError, concurrent.futures.TimeoutError) as exc:
            return f"{host} does not resolve ({type(exc).__name__})"
        finally:
            pool.shutdown(wait=False)  # a lookup past the timeout is left to finish on its own
        try:
            self.judge(host, port, [str(info[4][0]) for info in infos])
        except Refused as exc:
            return str(exc)
        return None


@contextlib.asynccontextmanager
async def fenced_proxy(fence: Fence) -> AsyncIterator[str]:
    """Run the filtering proxy on a free loopback port; yield its address for ``--proxy-server``."""
    server = await asyncio.start_server(lambda r, w: _serve(fence, r, w), "127.0.0.1", 0, limit=MAX_HEAD_BYTES)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


async def _serve(fence: Fence, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One proxy connection: one CONNECT tunnel or one plain HTTP request."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
        writer.close()
        return
    host, port = "", 0
    try:
        method, target, version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host, port, forward = host.strip("[]"), int(port_text), b""
        else:
            request = proxy_request_target(target)
            if request is None:
                raise Refused(f"{target[:80]!r} is not an absolute http URL")
            host, port, origin_target = request
            forward = _origin_form(head, method, origin_target, version)
        address = await fence.resolve(host, port)
        upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_TIMEOUT_S)
    except Refused as exc:  # a name that does not resolve is common (a browser's own background calls): no warning
        log.log(logging.WARNING if (host, port) in fence.refused else logging.DEBUG, "capture: refused %s", exc)
        await _answer(writer, b"403 Forbidden")
        return
    except (ValueError, OSError, TimeoutError):
        await _answer(writer, b"502 Bad Gateway")
        return
    if method == "CONNECT":
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    else:
        upstream_writer.write(forward)
    await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


def _origin_form(head: bytes, method: str, target: str, version: str) -> bytes:
    """The request as the origin expects it: origin-form target, no proxy headers, one request per connection."""
    lines = head.split(b"\r\n")[1:]
    kept = [line for line in lines if line and not line.lower().startswith((b"proxy-", b"connection:", b"keep-alive:"))]
    return b"\r\n".join([f"{method} {target} {version}".encode("latin-1"), *kept, b"Connection: close", b"", b""])


async def _answer(writer: asyncio.StreamWriter, status: bytes) -> None:
    """A short proxy error response, then close."""
    with contextlib.suppress(ConnectionError):
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
    writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes until either side closes."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
