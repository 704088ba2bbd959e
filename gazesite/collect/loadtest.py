"""A bounded, localhost-only load test of ``gazesite collect``: every sample must be stored exactly once.

``gazesite collect loadtest --participants 200 --seconds 60 --kill-at 30``

N simulated participants, each from its own loopback address (127.0.x.y, so the per-client rate limit
applies as it would to N browsers), cut a batch every ``--interval`` seconds and send their batches in
order, one at a time, retrying with back-off like the page. At each ``--kill-at`` second the server
process gets SIGKILL and is restarted ``--down`` seconds later on the same port while the clients
retry. After ``--seconds`` no new batches are cut; the clients drain what they hold (at most
``--drain`` seconds), the server stops, and the database is compared with what was generated.
Nothing leaves 127.0.0.0/8, every loop is bounded in count and time, and it stops by itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazesite.collect.process import ServerProcess
from gazesite.collect.protocol import (
    BATCH_FORMAT,
    BATCH_VERSION,
    MAX_BODY_BYTES,
    MAX_EXTRA_ARRAY,
    MAX_EXTRA_KEYS,
    MAX_SAMPLES,
)
from gazesite.collect.storage import read_sessions

#: The origin the simulated pages claim (the server is started to accept exactly it).
LOAD_ORIGIN = "http://localhost:8000"
MAX_PARTICIPANTS = 1000
MAX_SECONDS = 600.0
#: Client back-off: first wait, doubling up to the cap (the page uses 1 s to 30 s; shorter here so a 60 s run sees recovery).
FIRST_RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 2.0
REQUEST_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class LoadConfig:
    """Settings of one load test run."""

    participants: int = 200
    seconds: float = 60.0
    kill_at: tuple[float, ...] = (30.0,)
    down_seconds: float = 2.0
    interval: float = 0.5
    samples_per_batch: int = 15
    drain_seconds: float = 60.0
    seed: int = 0

    def validate(self) -> LoadConfig:
        """Return self, or raise ValueError naming the bad setting (the run must stay bounded)."""
        if not 1 <= self.participants <= MAX_PARTICIPANTS:
            raise ValueError(f"--participants {self.participants}: expected 1 to {MAX_PARTICIPANTS}")
        if not 0 < self.seconds <= MAX_SECONDS or not 0 <= self.drain_seconds <= MAX_SECONDS:
            raise ValueError(f"--seconds and --drain: expected at most {MAX_SECONDS:g} s")
        if any(not 0 < t < self.seconds for t in self.kill_at) or not 0 <= self.down_seconds <= 30:
            raise ValueError("--kill-at: times within the run; --down: 0 to 30 s")
        if not 0.05 <= self.interval <= 60 or not 1 <= self.samples_per_batch <= 2000:
            raise ValueError("--interval: 0.05 to 60 s; --samples-per-batch: 1 to 2000")
        return self


@dataclass
class Participant:
    """One simulated page: its session, its loopback address, what it generated and what waits to be sent."""

    index: int
    session: str
    address: str
    generated: list[dict[str, Any]] = field(default_factory=list)
    queue: deque[tuple[int, bytes]] = field(default_factory=deque)
    sequence: int = 0
    done_generating: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Tally:
    """What the clients saw."""

    latencies_ms: list[float] = field(default_factory=list)  # answered 200, per request
    steady_ms: list[float] = field(default_factory=list)  # the same, for requests sent before the first kill
    first_kill: float = float("inf")  # monotonic time of the first SIGKILL
    outcomes: Counter[str] = field(default_factory=Counter)
    first_ack: float | None = None
    last_ack: float | None = None


def worst_case_body() -> bytes:
    """The costliest valid batch to parse found so far (ms of parsing per byte), as long as it fits 1 MiB."""
    # The most samples, each with every field the schema names and the most extra fields, as arrays of
    # numbers as long as the body allows: the checks per byte peak there (measured against other shapes).
    known = {"t": 1.5, "x": 1.5, "y": 2.5, "viewport": [1280, 800], "scroll": [0, 0], "dpr": 1, "face": [1, 2, 3, 4]}
    known |= {"source": "m", "raw": [1, 2], "doc": [1, 2], "page": "/", "element": "a"}
    batch = {"format": BATCH_FORMAT, "version": BATCH_VERSION, "session": "worst-case-0123456789", "study": None, "sequence": 0}
    best = b""
    for length in range(1, MAX_EXTRA_ARRAY + 1):
        sample = known | {str(key): [0] * length for key in range(MAX_EXTRA_KEYS)}
        body = json.dumps(batch | {"samples": [sample] * MAX_SAMPLES}, separators=(",", ":")).encode()
        if len(body) > MAX_BODY_BYTES:
            break
        best = body
    return best


async def loop_stall_ms(work: Callable[[], Awaitable[object]], tick_seconds: float = 0.001) -> float:
    """The longest the running event loop went without running a 1 ms ticker while ``work`` was awaited (ms)."""
    loop = asyncio.get_running_loop()
    longest = 0.0
    done = False

    async def ticker() -> None:
        nonlocal longest
        last = loop.time()
        while not done:
            await asyncio.sleep(tick_seconds)
            now = loop.time()
            longest = max(longest, now - last - tick_seconds)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(tick_seconds * 5)  # the ticker is running before the work begins
    try:
        await work()
        await asyncio.sleep(tick_seconds * 5)
    finally:
        done = True
        await task
    return longest * 1000


def loopback_address(index: int) -> str:
    """Participant ``index``'s own source address in 127.0.0.0/8 (never 127.0.0.1, which the tests use)."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def make_samples(participant: Participant, rng: random.Random, count: int, t0: float) -> list[dict[str, Any]]:
    """``count`` v1 samples 33.3 ms apart, as the page logs them."""
    return [
        {
            "t": round(t0 + 33.3 * i, 1),
            "x": round(rng.uniform(0, 1280), 1),
            "y": round(rng.uniform(0, 800), 1),
            "viewport": [1280, 800],
            "scroll": [0, rng.randrange(0, 2000)],
            "dpr": 1,
            "face": [rng.randrange(80, 140), rng.randrange(40, 90), 96, 96],
            "source": "model",
        }
        for i in range(count)
    ]


async def generate(participant: Participant, config: LoadConfig, started: float) -> None:
    """Cut a batch every ``interval`` (with jitter) until the run's end."""
    rng = random.Random(config.seed * 100_003 + participant.index)
    await asyncio.sleep(rng.uniform(0, config.interval))  # participants do not march in step
    meta = {
        "format": "gazesite-samples",
        "version": 1,
        "target": "https://example.org/",
        "mode": "frame",
        "screen": [1920, 1080],
        "calibration": None,
    }
    while time.monotonic() - started < config.seconds:
        samples = make_samples(participant, rng, config.samples_per_batch, 1000.0 * participant.sequence)
        body = {"format": BATCH_FORMAT, "version": BATCH_VERSION, "session": participant.session, "study": "load"}
        body |= {"sequence": participant.sequence, "meta": meta, "samples": samples}
        participant.queue.append((participant.sequence, json.dumps(body).encode()))
        participant.generated.extend(samples)
        participant.sequence += 1
        participant.wake.set()
        await asyncio.sleep(config.interval * rng.uniform(0.8, 1.2))
    participant.done_generating = True
    participant.wake.set()


async def send(participant: Participant, url: str, tally: Tally, deadline: float) -> None:
    """Send the queued batches in order, one at a time; retry each with back-off until it is answered 200."""
    import aiohttp

    connector = aiohttp.TCPConnector(local_addr=(participant.address, 0), limit=1)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    headers = {"Origin": LOAD_ORIGIN, "Content-Type": "application/json"}
    rng = random.Random(participant.index)
    attempt = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while time.monotonic() < deadline:
            if not participant.queue:
                if participant.done_generating:
                    return
                participant.wake.clear()
                await participant.wake.wait()
                continue
            _, body = participant.queue[0]
            began = time.monotonic()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    answer = await response.json(content_type=None)
                    status = response.status
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                tally.outcomes[f"no answer ({type(exc).__name__})"] += 1
                status = None
            if status == 200:
                now = time.monotonic()
                tally.latencies_ms.append((now - began) * 1000)
                if began < tally.first_kill:
                    tally.steady_ms.append((now - began) * 1000)
                tally.outcomes["200 duplicate" if answer.get("duplicate") else "200 stored"] += 1
                tally.first_ack = tally.first_ack or now
                tally.last_ack = now
                participant.queue.popleft()
                attempt = 0
                continue
            if status is not None:
                tally.outcomes[f"{status}"] += 1
                if status in (
                    400,
                    409,
                    413,
                    415,
                ):  # the batch itself is wrong: a bug in this test; keep it to be counted as lost
                    return
            delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2**attempt) * rng.uniform(0.5, 1.0)
            attempt = min(attempt + 1, 20)
            await asyncio.sleep(delay)


async def kill_and_restart(server: ServerProcess, config: LoadConfig, started: float, events: list[str], tally: Tally) -> None:
    """SIGKILL the server at each --kill-at second and restart it --down seconds later."""
    loop = asyncio.get_running_loop()
    for at in sorted(config.kill_at):
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        tally.first_kill = min(tally.first_kill, time.monotonic())
        await loop.run_in_executor(None, server.kill)
        events.append(f"SIGKILL at {time.monotonic() - started:.1f} s")
        await asyncio.sleep(config.down_seconds)
        await loop.run_in_executor(None, server.start)
        events.append(f"restarted at {time.monotonic() - started:.1f} s")


async def drive(config: LoadConfig, server: ServerProcess) -> tuple[list[Participant], Tally, list[str], float]:
    """Run the participants and the killer; return them with what the clients saw and the run's length."""
    participants = [
        Participant(i, f"load-{config.seed:04d}-{i:05d}-{os.getpid()}", loopback_address(i)) for i in range(config.participants)
    ]
    tally, events = Tally(), list[str]()
    started = time.monotonic()
    deadline = started + config.seconds + config.drain_seconds
    tasks = [generate(p, config, started) for p in participants] + [send(p, server.url, tally, deadline) for p in participants]
    await asyncio.gather(kill_and_restart(server, config, started, events, tally), *tasks)
    return participants, tally, events, time.monotonic() - started


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def compare(participants: list[Participant], db: Path) -> dict[str, int]:
    """Count generated, stored, lost and duplicated samples, by (session, t) (each unique per participant)."""
    stored: Counter[tuple[str, float]] = Counter()
    for document in read_sessions(db):
        for sample in document["samples"]:
            stored[(document["session"], sample["t"])] += 1
    generated = {(p.session, s["t"]) for p in participants for s in p.generated}
    return {
        "generated_samples": len(generated),
        "stored_samples": sum(stored.values()),
        "lost_samples": len(generated - set(stored)),
        "duplicated_samples": sum(count - 1 for count in stored.values()) + len(set(stored) - generated),
        "generated_batches": sum(p.sequence for p in participants),
        "unsent_batches": sum(len(p.queue) for p in participants),
    }


def run_loadtest(config: LoadConfig, workdir: Path) -> dict[str, Any]:
    """Run one load test against a fresh database in ``workdir``; return the figures."""
    config = config.validate()
    server = ServerProcess(workdir / "load.db", LOAD_ORIGIN).start()
    try:
        # On a thread of its own: the caller may already run an event loop (Playwright's sync API does).
        with ThreadPoolExecutor(max_workers=1) as executor:
            participants, tally, events, elapsed = executor.submit(lambda: asyncio.run(drive(config, server))).result()
    finally:
        server.stop()
    counts = compare(participants, server.db)
    acked = tally.outcomes["200 stored"] + tally.outcomes["200 duplicate"]
    span = (tally.last_ack - tally.first_ack) if tally.first_ack and tally.last_ack else 0.0
    return {
        "participants": config.participants,
        "seconds": config.seconds,
        "elapsed_seconds": round(elapsed, 1),
        "events": events,
        "batches_per_second": round(acked / span, 1) if span > 0 else None,
        "samples_per_second": round(counts["stored_samples"] / span, 1) if span > 0 else None,
        "latency_ms": {
            "p50": round(percentile(tally.latencies_ms, 0.50), 1),
            "p99": round(percentile(tally.latencies_ms, 0.99), 1),
            "max": round(max(tally.latencies_ms, default=float("nan")), 1),
            # Requests sent before the first kill: the steady state, without the catch-up after a restart.
            "p50_before_kill": round(percentile(tally.steady_ms, 0.50), 1),
            "p99_before_kill": round(percentile(tally.steady_ms, 0.99), 1),
        },
        "requests": dict(sorted(tally.outcomes.items())),
        "server_cpu_ms_per_batch": round(1000 * server.cpu_seconds / acked, 2) if acked else None,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        **counts,
    }


def format_report(figures: dict[str, Any]) -> str:
    """The figures as a few lines of text."""
    lines = [
        f"{figures['participants']} participants for {figures['seconds']:g} s ({figures['elapsed_seconds']:g} s with the drain); {', '.join(figures['events']) or 'no kill'}",
        f"throughput: {figures['batches_per_second']} batches/s, {figures['samples_per_second']} samples/s",
        (
            f"latency of answered requests: p50 {figures['latency_ms']['p50']} ms, p99 {figures['latency_ms']['p99']} ms, "
            f"max {figures['latency_ms']['max']} ms; before the first kill: p50 {figures['latency_ms']['p50_before_kill']} ms, "
            f"p99 {figures['latency_ms']['p99_before_kill']} ms"
        ),
        f"server CPU: {figures['server_cpu_ms_per_batch']} ms per acknowledged batch; machine load average {figures['load_average']}",
        "requests: " + ", ".join(f"{name}: {count}" for name, count in figures["requests"].items()),
        f"batches: {figures['generated_batches']} generated, {figures['unsent_batches']} unsent at the end",
        (
            f"samples: {figures['generated_samples']} generated, {figures['stored_samples']} stored, "
            f"{figures['lost_samples']} lost, {figures['duplicated_samples']} duplicated"
        ),
    ]
    return "\n".join(lines)


def passed(figures: dict[str, Any]) -> bool:
    """True when every generated sample was stored exactly once and nothing was left unsent."""
    return figures["lost_samples"] == 0 and figures["duplicated_samples"] == 0 and figures["unsent_batches"] == 0
