"""The capture's filtering proxy, spoken to directly: hostile requests get a short refusal, never a connection."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from gazesite.study import egress
from gazesite.study.egress import Fence, fenced_proxy


async def ask(fence: Fence, request: bytes) -> bytes:
    """Send one raw request through a fresh proxy and return everything it answers (bounded in time)."""
    async with fenced_proxy(fence) as address:
        host, port = address.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return answer


def run(fence: Fence, request: bytes) -> bytes:
    """Ask on a thread of its own: its event loop must not meet one a browser test left running in this worker."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ask(fence, request)).result()


@pytest.mark.parametrize(
    "request_line",
    [
        b"CONNECT 10.1.2.3:443 HTTP/1.1",  # private (refused before any connection is tried)
        b"CONNECT 169.254.169.254:80 HTTP/1.1",  # link-local: a cloud's metadata service
        b"GET http://127.0.0.1:9/latest HTTP/1.1",  # loopback, plain HTTP
        b"GET http://[::1]:9/ HTTP/1.1",
    ],
)
def test_private_destinations_are_refused_with_403(request_line: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    connected: list[Any] = []
    real = asyncio.open_connection

    async def spy(host: str, port: int, **kwargs: Any) -> Any:
        if port != 9 or host not in ("127.0.0.1", "::1"):  # the test's own connection to the proxy passes
            return await real(host, port, **kwargs)
        connected.append((host, port))
        raise AssertionError("the fence connected to a refused address")

    monkeypatch.setattr(egress.asyncio, "open_connection", spy)
    fence = Fence()
    answer = run(fence, request_line + b"\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403 Forbidden"), answer
    assert connected == [] and len(fence.refused) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"NONSENSE\r\n\r\n",  # no target, no version
        b"CONNECT example.org:https HTTP/1.1\r\n\r\n",  # a port that is no number
        b"GET /relative HTTP/1.1\r\nHost: x\r\n\r\n",  # not an absolute http URL
        b"GET ftp://example.org/ HTTP/1.1\r\n\r\n",
    ],
    ids=["garbage", "bad-port", "relative", "ftp"],
)
def test_malformed_requests_get_a_short_error(raw: bytes) -> None:
    answer = run(Fence(allow_private=True), raw)
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 403 Forbidden", b"HTTP/1.1 502 Bad Gateway"), answer


def test_an_oversized_request_head_is_cut_off() -> None:
    answer = run(Fence(allow_private=True), b"GET http://127.0.0.1:9/ HTTP/1.1\r\nX: " + b"a" * (egress.MAX_HEAD_BYTES + 10) + b"\r\n\r\n")
    assert answer == b""  # closed without a word or a connection


def test_a_silent_client_is_dropped_after_the_head_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "HEAD_TIMEOUT_S", 0.5)
    assert run(Fence(allow_private=True), b"GET http://127.0.0.1:9/") == b""
