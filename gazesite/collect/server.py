"""``gazesite collect``: the HTTP server (aiohttp) that receives batches from consenting pages.

Before any request, a connection must fit the caps (per address and in all)
and deliver its headers within ``HEADER_SECONDS``; otherwise it is closed.
One request = one batch. Every request passes, in order: the Origin check
(only ``--origin`` may send, and only it gets CORS answers, preflight
included), the per-client rate limit (only requests with that Origin spend a
client's budget; the client is the TCP peer, or with ``--trust-proxy N`` the
address the N trusted proxies recorded), the content type, the body size
(1 MiB, refused from Content-Length before reading), a read deadline, the
JSON depth and the batch schema (``protocol``), parsed on a worker thread so
a costly body does not stall the event loop. Valid batches go to one writer
thread that commits every batch waiting at that moment in one SQLite
transaction (group commit) within the storage quota, and only then answers:
a 200 means the batch is on disk. Anything unexpected is a one-line 4xx/5xx
answer; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from gazesite.collect.clients import RateLimiter, client_key
from gazesite.collect.connections import (
    BODY_SECONDS,
    MAX_CONNECTIONS_PER_ADDRESS,
    ConnectionGuard,
    ConnectionLimits,
    QuietResourceErrors,
    accept_backlog,
    connection_cap,
    listen,
    raise_descriptor_limit,
)
from gazesite.collect.protocol import (
    MAX_BODY_BYTES,
    Batch,
    BatchError,
    parse_batch,
)
from gazesite.collect.settings import CollectConfig
from gazesite.collect.storage import CONFLICT, DUPLICATE, FULL, SESSION_FULL, Storage, StorageError
from gazesite.collect.writer import Writer
from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)

#: Bytes of bodies being parsed or waiting for the parser, at most; more get 503. Bytes, not batches: 200
#: participants' small batches at once wait a few ms, while 16 worst-case 1 MiB ones already wait seconds.
MAX_PARSING_BYTES = 16 * MAX_BODY_BYTES
#: What a client should wait before retrying when the parser is busy.
PARSER_RETRY_SECONDS = 1
#: What a client should wait before retrying a new session when the database is full.
FULL_RETRY_SECONDS = 60
#: How long browsers may cache a preflight answer.
PREFLIGHT_MAX_AGE = 600
#: What a client should wait before retrying after a storage failure.
STORAGE_RETRY_SECONDS = 2
ACCEPTED_TYPES = ("application/json", "text/plain")  # text/plain: sendBeacon's type that needs no preflight


def answer(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    """A one-line JSON answer."""
    return web.Response(status=status, text=json.dumps(payload) + "\n", content_type="application/json", headers=headers)


def refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    """A 4xx/5xx answer whose body is one line naming the reason."""
    return answer(status, {"ok": False, "error": " ".join(reason.split())}, headers)


def shown(value: str | None) -> str:
    """A client-supplied header value, shortened and quoted for a message."""
    return repr(value[:80] + ("…" if len(value) > 80 else "")) if value is not None else "none"


class BatchParser:
    """Parses request bodies on one worker thread, so a costly batch leaves the event loop free; bounded."""

    def __init__(self) -> None:
        # One thread: parsing is pure Python, so more threads would only take turns holding the GIL.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gazesite-collect-parse")
        self.waiting = 0  # bytes

    def full(self, size: int) -> bool:
        """True when a body of ``size`` bytes would take the bodies waiting past MAX_PARSING_BYTES."""
        return self.waiting + size > MAX_PARSING_BYTES

    async def parse(self, body: bytes) -> Batch:
        """``protocol.parse_batch`` on the worker thread (BatchError as it raises it)."""
        self.waiting += len(body)
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, parse_batch, body)
        finally:
            self.waiting -= len(body)

    def close(self) -> None:
        """Stop the worker thread (bodies still waiting are dropped: their requests are gone too)."""
        self.executor.shutdown(wait=False, cancel_futures=True)


class Collector:
    """The request handlers, bound to one configuration and one writer."""

    def __init__(self, config: CollectConfig, storage: Storage, connections: ConnectionLimits | None = None) -> None:
        self.config, self.storage, self.connections = config, storage, connections
        self.limiter = RateLimiter(config.rate, config.burst)
        self.parser = BatchParser()
        self.writer: Writer | None = None

    async def start_writer(self, app: web.Application) -> None:
        """Start the writer thread on the application's event loop (aiohttp's on_startup)."""
        self.writer = Writer(self.storage, asyncio.get_running_loop())

    async def stop_writer(self, app: web.Application) -> None:
        """Write what the writer still holds, then close the database (aiohttp's on_cleanup)."""
        self.parser.close()
        if self.writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.writer.close)
        self.storage.close()

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Rate limit, turn every failure into a one-line answer, and add CORS headers for the allowed origin only."""
        connection = self.connections.guard_of(request.transport) if self.connections is not None else None
        if connection is not None:
            connection.request_started()
        try:
            response = await self.limited(request, handler)
        finally:
            if connection is not None:
                connection.request_finished()
        if request.headers.get("Origin") == self.config.origin:
            response.headers["Access-Control-Allow-Origin"] = self.config.origin
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"
        return response

    async def limited(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Rate limit the requests with the allowed Origin and hand every request on; failures become one-line answers."""
        # Only those spend their client's budget: junk without it gets its 403 from the handler, and cannot
        # use up what an honest participant behind the same address (a proxy, a NAT) may send.
        wait, client = 0.0, ""
        if request.headers.get("Origin") == self.config.origin:
            client = client_key(request.remote or "unknown", request.headers.getall("X-Forwarded-For", []), self.config.trust_proxy)
            wait = self.limiter.wait(client)
        if wait > 0:
            response: web.StreamResponse = refuse(
                429,
                f"too many requests from {client}: at most {self.config.rate:g} per second",
                {"Retry-After": str(math.ceil(wait))},
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # the router's 404/405, aiohttp's 413
                response = refuse(exc.status, exc.reason)
            except Exception:
                log.exception("%s %s failed", request.method, request.path)
                response = refuse(500, "internal error: the request was not stored, retry later")
        return response

    def origin_problem(self, request: web.Request) -> web.Response | None:
        """403 unless the request comes from the allowed origin."""
        origin = request.headers.get("Origin")
        if origin == self.config.origin:
            return None
        return refuse(403, f"origin {shown(origin)} is not allowed: this server takes batches from {self.config.origin} only")

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route by method: POST a batch (any path, so a proxy may mount it anywhere), OPTIONS, GET /health."""
        if request.method == "POST":
            return await self.post(request)
        if request.method == "OPTIONS":
            return self.preflight(request)
        if request.method in ("GET", "HEAD") and request.path == "/health":
            return answer(200, {"ok": True})
        if request.method in ("GET", "HEAD"):
            return refuse(404, f"nothing at {request.path[:80]}: POST batches here, or GET /health")
        return refuse(405, f"method {request.method[:16]} is not allowed: POST a batch", {"Allow": "POST, OPTIONS, GET"})

    def preflight(self, request: web.Request) -> web.Response:
        """Answer a CORS preflight for POST with Content-Type from the allowed origin; refuse any other."""
        if problem := self.origin_problem(request):
            return problem
        method = request.headers.get("Access-Control-Request-Method")
        if method != "POST":
            return refuse(403, f"method {shown(method)} is not allowed: POST a batch")
        asked = {h.strip().lower() for h in request.headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()}
        if not asked <= {"content-type"}:
            return refuse(403, f"request headers {shown(', '.join(sorted(asked)))} are not allowed: only Content-Type")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            },
        )

    async def post(self, request: web.Request) -> web.Response:
        """Validate and store one batch."""
        if problem := self.origin_problem(request):
            problem.force_close()  # its body is never read: the sender pays for a new connection, not the server
            return problem
        if request.content_type not in ACCEPTED_TYPES:
            return refuse(415, f"content type {shown(request.content_type)} is not accepted: send application/json")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            response = refuse(413, f"body of {request.content_length} bytes is larger than {MAX_BODY_BYTES} bytes")
            response.force_close()  # do not read (or linger over) the rest of it
            return response
        try:
            async with asyncio.timeout(BODY_SECONDS):
                body = await request.read()  # the application's client_max_size stops a body without Content-Length
        except web.HTTPRequestEntityTooLarge:
            response = refuse(413, f"body is larger than {MAX_BODY_BYTES} bytes")
            response.force_close()
            return response
        except TimeoutError:
            response = refuse(408, f"the body did not arrive within {BODY_SECONDS:g} s")
            response.force_close()
            return response
        if self.parser.full(len(body)):
            return refuse(503, "the server is busy parsing other batches: retry later", {"Retry-After": str(PARSER_RETRY_SECONDS)})
        try:
            batch = await self.parser.parse(body)
        except BatchError as exc:
            return refuse(400, str(exc))
        assert self.writer is not None
        try:
            outcome = await self.writer.submit(batch)
        except StorageError:
            return refuse(503, "the database is not available: retry later", {"Retry-After": str(STORAGE_RETRY_SECONDS)})
        if outcome.status == CONFLICT:
            return refuse(409, outcome.reason)
        if outcome.status == FULL:
            return refuse(507, outcome.reason, {"Retry-After": str(FULL_RETRY_SECONDS)})
        if outcome.status == SESSION_FULL:  # the batch is well-formed, but its session may hold no more
            return refuse(422, outcome.reason)
        return answer(
            200,
            {
                "ok": True,
                "session": batch.session,
                "sequence": batch.sequence,
                "duplicate": outcome.status == DUPLICATE,
                "samples": len(batch.samples),
            },
        )


async def _plain_server_header(request: web.Request, response: web.StreamResponse) -> None:
    """Name the product, not the versions of the stack under it."""
    response.headers["Server"] = "gazesite-collect"


def make_app(config: CollectConfig, storage: Storage, connections: ConnectionLimits | None = None) -> web.Application:
    """The aiohttp application for one validated configuration and its open storage."""
    collector = Collector(config, storage, connections)
    app = web.Application(middlewares=[collector.guard], client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", "/{tail:.*}", collector.dispatch)
    app.on_response_prepare.append(_plain_server_header)
    app.on_startup.append(collector.start_writer)
    app.on_cleanup.append(collector.stop_writer)
    return app


async def _serve(config: CollectConfig, storage: Storage, sock: socket.socket) -> None:
    """Serve on ``sock`` until SIGINT/SIGTERM; every connection goes through a ConnectionGuard."""
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(QuietResourceErrors())
    total = connection_cap(raise_descriptor_limit())
    # Behind a proxy every connection comes from it: the proxy bounds its clients' connections, not us.
    limits = ConnectionLimits(None if config.trust_proxy else MAX_CONNECTIONS_PER_ADDRESS, total, config.origin)
    runner = web.AppRunner(make_app(config, storage, limits), access_log=None, shutdown_timeout=5)
    await runner.setup()
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    handler = runner.server
    assert handler is not None
    backlog = accept_backlog(total)
    server = await loop.create_server(lambda: ConnectionGuard(handler, limits), sock=sock, backlog=backlog)
    log.info("at most %d connections, %s per address; backlog %d", total, limits.per_address or "any number", backlog)
    try:
        await stop.wait()
    finally:
        server.close()
        await runner.cleanup()  # closes the connections, lets the writer finish what it holds, closes the database


def serve(config: CollectConfig, announce: Any = print) -> None:
    """Open the database, listen, and serve until SIGINT/SIGTERM (the writer finishes what it holds)."""
    config = config.validate()
    storage = Storage(config.db, config.max_db_bytes)
    try:
        sock = listen(config.host, config.port)
    except GazesiteError:
        storage.close()
        raise
    host, port = sock.getsockname()[:2]
    announce(f"collecting into {config.db} at http://{host}:{port}/ for pages of {config.origin} (Ctrl+C stops)")
    asyncio.run(_serve(config, storage, sock))
