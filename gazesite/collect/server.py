"""``gazesite collect``: the HTTP server (aiohttp) that receives batches from consenting pages.

One request = one batch. Every request passes, in order: the per-client rate
limit, the Origin check (only ``--origin`` may send, and only it gets CORS
answers, preflight included), the content type, the body size (1 MiB, refused
from Content-Length before reading), a read deadline, the JSON depth and the
batch schema (``protocol``). Valid batches go to one writer thread that
commits every batch waiting at that moment in one SQLite transaction (group
commit) and only then answers: a 200 means the batch is on disk. Anything
unexpected is a one-line 4xx/5xx answer; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import queue
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from gazesite.collect.protocol import DEFAULT_BURST, DEFAULT_RATE, MAX_BODY_BYTES, Batch, BatchError, parse_batch
from gazesite.collect.storage import CONFLICT, DUPLICATE, Outcome, Storage, StorageError
from gazesite.config import canonical_host
from gazesite.errors import ConfigError, GazesiteError

log = logging.getLogger(__name__)

#: Client addresses the rate limiter remembers (least recently seen are forgotten first).
MAX_CLIENTS = 100_000
#: Longest wait for a request body once its headers arrived (a slow sender holds a connection no longer).
BODY_SECONDS = 10.0
#: Most batches committed in one transaction.
MAX_GROUP = 500
#: How long browsers may cache a preflight answer.
PREFLIGHT_MAX_AGE = 600
#: What a client should wait before retrying after a storage failure.
STORAGE_RETRY_SECONDS = 2
ACCEPTED_TYPES = ("application/json", "text/plain")  # text/plain: sendBeacon's type that needs no preflight


@dataclass(frozen=True)
class CollectConfig:
    """Settings of ``gazesite collect``."""

    db: Path
    origin: str
    host: str = "127.0.0.1"
    port: int = 8080
    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST

    def validate(self) -> CollectConfig:
        """Return self with the origin in canonical form, or raise ConfigError listing every problem."""
        problems = []
        origin, problem = canonical_origin(self.origin)
        if problem:
            problems.append(f"--origin {self.origin!r}: {problem}")
        if not Path(self.db).parent.is_dir():
            problems.append(f"--db {self.db}: the folder {Path(self.db).parent} does not exist")
        if not 0 <= self.port <= 65535:
            problems.append(f"--port {self.port}: expected 0 to 65535")
        if not (math.isfinite(self.rate) and self.rate > 0):
            problems.append(f"--rate {self.rate}: expected requests per second > 0")
        if self.burst < 1:
            problems.append(f"--burst {self.burst}: expected at least 1 request")
        if problems:
            raise ConfigError(problems)
        return CollectConfig(Path(self.db), origin, self.host, self.port, self.rate, self.burst)


def canonical_origin(text: str) -> tuple[str, str | None]:
    """Return (the origin as browsers send it in Origin headers, None) or (text, why it is not an origin)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return text, "is not a valid origin"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return text, "expected the page's origin, scheme://host[:port], as in https://study.example.org"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return text, "expected only scheme://host[:port], without a path, query or user"
    try:
        host = canonical_host(parts.hostname)
    except ValueError as exc:
        return text, f"host {exc}"
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    return f"{parts.scheme.lower()}://{host.lower()}" + (f":{port}" if port not in (None, default) else ""), None


class RateLimiter:
    """Token buckets per client address: ``rate`` requests per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, max_clients: int = MAX_CLIENTS) -> None:
        self.rate, self.burst, self.max_clients = rate, float(burst), max_clients
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, client: str, now: float | None = None) -> float:
        """Take a token for ``client``: 0 if the request may go ahead, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, stamp = self.buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self.buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self.buckets) > self.max_clients:  # bounded memory: forget the longest-idle client
            self.buckets.popitem(last=False)
        return wait


class Writer:
    """One thread that stores batches: each round commits every batch waiting at that moment in one transaction."""

    def __init__(self, storage: Storage, loop: asyncio.AbstractEventLoop) -> None:
        self.storage, self.loop = storage, loop
        self.queue: queue.SimpleQueue[tuple[Batch, asyncio.Future[Outcome]] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="gazesite-collect-writer", daemon=True)
        self.thread.start()

    async def submit(self, batch: Batch) -> Outcome:
        """Store one batch; resolves once it is committed (StorageError if it could not be)."""
        future: asyncio.Future[Outcome] = self.loop.create_future()
        self.queue.put((batch, future))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self.queue.get()
            if item is None:
                break
            group = [item]
            while len(group) < MAX_GROUP:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
            try:
                outcomes: list[Any] = self.storage.store([batch for batch, _ in group])
            except StorageError as exc:
                log.error("%s", exc)
                outcomes = [exc] * len(group)
            except Exception as exc:  # a bug must not stop the writer: every waiting request still gets an answer
                log.exception("storing %d batches failed", len(group))
                outcomes = [StorageError(f"cannot store batches ({type(exc).__name__})")] * len(group)
            for (_, future), outcome in zip(group, outcomes, strict=True):
                self.loop.call_soon_threadsafe(_settle, future, outcome)

    def close(self) -> None:
        """Finish the waiting batches, then stop the thread."""
        self.queue.put(None)
        self.thread.join(timeout=30)


def _settle(future: asyncio.Future[Outcome], outcome: Outcome | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def answer(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    """A one-line JSON answer."""
    return web.Response(status=status, text=json.dumps(payload) + "\n", content_type="application/json", headers=headers)


def refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    """A 4xx/5xx answer whose body is one line naming the reason."""
    return answer(status, {"ok": False, "error": " ".join(reason.split())}, headers)


def shown(value: str | None) -> str:
    """A client-supplied header value, shortened and quoted for a message."""
    return repr(value[:80] + ("…" if len(value) > 80 else "")) if value is not None else "none"


class Collector:
    """The request handlers, bound to one configuration and one writer."""

    def __init__(self, config: CollectConfig, storage: Storage) -> None:
        self.config, self.storage = config, storage
        self.limiter = RateLimiter(config.rate, config.burst)
        self.writer: Writer | None = None

    async def start_writer(self, app: web.Application) -> None:
        """Start the writer thread on the application's event loop (aiohttp's on_startup)."""
        self.writer = Writer(self.storage, asyncio.get_running_loop())

    async def stop_writer(self, app: web.Application) -> None:
        """Write what the writer still holds, then close the database (aiohttp's on_cleanup)."""
        if self.writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.writer.close)
        self.storage.close()

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Rate limit, turn every failure into a one-line answer, and add CORS headers for the allowed origin only."""
        wait = self.limiter.wait(request.remote or "unknown")
        if wait > 0:
            response: web.StreamResponse = refuse(
                429,
                f"too many requests from {request.remote}: at most {self.config.rate:g} per second",
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
        if request.headers.get("Origin") == self.config.origin:
            response.headers["Access-Control-Allow-Origin"] = self.config.origin
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"
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
        try:
            batch = parse_batch(body)
        except BatchError as exc:
            return refuse(400, str(exc))
        assert self.writer is not None
        try:
            outcome = await self.writer.submit(batch)
        except StorageError:
            return refuse(503, "the database is not available: retry later", {"Retry-After": str(STORAGE_RETRY_SECONDS)})
        if outcome.status == CONFLICT:
            return refuse(409, outcome.reason)
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


def make_app(config: CollectConfig, storage: Storage) -> web.Application:
    """The aiohttp application for one validated configuration and its open storage."""
    collector = Collector(config, storage)
    app = web.Application(middlewares=[collector.guard], client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", "/{tail:.*}", collector.dispatch)
    app.on_response_prepare.append(_plain_server_header)
    app.on_startup.append(collector.start_writer)
    app.on_cleanup.append(collector.stop_writer)
    return app


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket (port 0 picks a free one); GazesiteError names the problem."""
    try:
        # create_server sets SO_REUSEADDR, so a restart after a crash can take the same port at once.
        return socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET, backlog=1024)
    except (OSError, OverflowError) as exc:
        raise GazesiteError(
            f"cannot listen on {host}:{port} ({getattr(exc, 'strerror', None) or exc}): choose another --host or --port"
        ) from None


def serve(config: CollectConfig, announce: Any = print) -> None:
    """Open the database, listen, and serve until SIGINT/SIGTERM (the writer finishes what it holds)."""
    config = config.validate()
    storage = Storage(config.db)
    try:
        sock = listen(config.host, config.port)
    except GazesiteError:
        storage.close()
        raise
    host, port = sock.getsockname()[:2]
    announce(f"collecting into {config.db} at http://{host}:{port}/ for pages of {config.origin} (Ctrl+C stops)")
    web.run_app(make_app(config, storage), sock=sock, print=None, access_log=None, handle_signals=True, shutdown_timeout=5)
