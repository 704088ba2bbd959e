"""``gazesite collect`` under attack: whose budget a request spends, half-open connections, costly bodies, a full disk."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gazesite.collect import server as server_module
from gazesite.collect.clients import client_key
from gazesite.collect.connections import HEADER_SECONDS, MAX_CONNECTIONS, accept_backlog, connection_cap
from gazesite.collect.loadtest import loop_stall_ms, worst_case_body
from gazesite.collect.protocol import MAX_BODY_BYTES, MAX_SAMPLES, MAX_SESSION_SAMPLES, Batch, canonical, parse_batch
from gazesite.collect.server import BatchParser
from gazesite.collect.storage import FULL, SESSION_FULL, STORED, Storage, database_counts
from tests.helpers.collect import CollectProcess, make_batch

ORIGIN = "http://localhost:8123"


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[CollectProcess]:
    """A server behind one trusted proxy hop, with a small rate limit (3 at once, then 1 per second)."""
    server = CollectProcess(tmp_path / "proxied.db", ORIGIN, None, "--trust-proxy", "1", "--rate", "1", "--burst", "3").start()
    yield server
    server.stop()


def forwarded(chain: str) -> dict[str, str]:
    return {"X-Forwarded-For": chain}


# --- 5. The rate limit's key --------------------------------------------------------------------------------


def test_participants_behind_one_proxy_each_get_their_own_bucket(proxied: CollectProcess) -> None:
    alice, bob = "203.0.113.7", "198.51.100.20"
    statuses = [proxied.post(make_batch(session="alice-0123456789abcd", sequence=i), headers=forwarded(alice))[0] for i in range(4)]
    assert statuses == [200, 200, 200, 429], statuses
    # Bob shares the proxy's TCP address with Alice, not her bucket.
    assert proxied.post(make_batch(session="bob-0123456789abcdef"), headers=forwarded(bob))[0] == 200
    # Alice cannot escape hers by writing another address on the left: the proxy appends the one it saw.
    status, _, answer = proxied.post(make_batch(session="alice-0123456789abcd", sequence=9), headers=forwarded(f"10.9.9.9, {alice}"))
    assert status == 429 and alice in answer["error"], answer


def test_a_forged_forwarded_for_without_trust_proxy_changes_nothing(tmp_path: Path) -> None:
    server = CollectProcess(tmp_path / "direct.db", ORIGIN, None, "--rate", "1", "--burst", "3").start()
    try:
        statuses = [
            server.post(make_batch(session="forger-0123456789abc", sequence=i), headers=forwarded(f"192.0.2.{i + 1}"))[0] for i in range(5)
        ]
        assert statuses[:3] == [200] * 3 and set(statuses[3:]) == {429}, statuses
    finally:
        server.stop()


def test_junk_without_origin_does_not_spend_an_honest_budget(proxied: CollectProcess) -> None:
    honest = "203.0.113.50"
    junk = json.dumps(make_batch(session="junk-0123456789abcdef")).encode()
    began = time.monotonic()
    for index in range(1000):  # from the proxy's address: half name no client, half name the honest one
        headers = {"Content-Type": "application/json"} | (forwarded(honest) if index % 2 else {})
        status, _, answer = proxied.request("POST", junk, headers)
        assert status == 403 and "origin" in answer["error"], answer
    assert time.monotonic() - began < 60
    statuses = [proxied.post(make_batch(session="honest-0123456789abc", sequence=i), headers=forwarded(honest))[0] for i in range(3)]
    assert statuses == [200, 200, 200], statuses
    assert database_counts(proxied.db) == {"sessions": 1, "batches": 3, "samples": 9}


@pytest.mark.parametrize(
    ("peer", "chain", "hops", "expected"),
    [
        ("127.0.0.1", ["203.0.113.7"], 0, "127.0.0.1"),  # not trusted: the TCP peer, whatever the header says
        ("127.0.0.1", [], 1, "127.0.0.1"),  # no header: the peer (every such request shares the proxy's bucket)
        ("127.0.0.1", ["203.0.113.7"], 1, "203.0.113.7"),
        ("127.0.0.1", ["6.6.6.6, 203.0.113.7"], 1, "203.0.113.7"),  # the left-most entry is the client's own words
        ("127.0.0.1", ["6.6.6.6", "203.0.113.7"], 1, "203.0.113.7"),  # several headers read as one list
        ("127.0.0.1", ["6.6.6.6, 203.0.113.7, 10.0.0.2"], 2, "203.0.113.7"),  # CDN, then the proxy: two hops
        ("127.0.0.1", ["203.0.113.7"], 2, "127.0.0.1"),  # fewer entries than hops: not through the proxies
        ("127.0.0.1", ["not-an-address"], 1, "127.0.0.1"),
        ("127.0.0.1", ["2001:db8:1:2:aaaa::1"], 1, "2001:db8:1:2::/64"),  # one IPv6 subscriber holds a /64
        ("::ffff:127.0.0.1", [], 0, "127.0.0.1"),
    ],
)
def test_the_client_key_is_the_entry_the_trusted_proxies_wrote(peer: str, chain: list[str], hops: int, expected: str) -> None:
    assert client_key(peer, chain, hops) == expected


# --- 6. Half-open connections -------------------------------------------------------------------------------


@pytest.mark.slow
def test_half_open_connections_are_capped_and_closed(tmp_path: Path) -> None:
    server = CollectProcess(tmp_path / "slow.db", ORIGIN).start()
    sockets: list[socket.socket] = []
    try:
        began = time.monotonic()
        for _ in range(300):  # one address, headers that never end
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=("127.0.0.1", 0))
            sock.sendall(b"POST /batches HTTP/1.1\r\nHost: x\r\nOrigin: " + ORIGIN.encode() + b"\r\nX-Slow: ")
            sockets.append(sock)
        # Another address is served at once.
        status, _, answer = server.post(make_batch(session="honest-0123456789abc"), source="127.0.0.2")
        assert status == 200, answer
        assert server.request("GET", path="/health", source="127.0.0.3")[0] == 200
        # Every half-open connection is closed by the server: the extra ones at once, the rest at the header deadline.
        open_sockets = list(sockets)
        deadline = began + HEADER_SECONDS + 8
        while open_sockets and time.monotonic() < deadline:
            still = []
            for sock in open_sockets:
                sock.setblocking(False)
                try:
                    if sock.recv(4096) == b"":
                        continue
                except BlockingIOError:
                    still.append(sock)
                    continue
                except OSError:
                    continue
            open_sockets = still
            time.sleep(0.2)
        assert not open_sockets, f"{len(open_sockets)} of 300 half-open connections still open after {HEADER_SECONDS + 8:g} s"
        assert server.alive()
        assert server.post(make_batch(session="honest-0123456789abc", sequence=1))[0] == 200
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log and "Too many open files" not in log, log[-3000:]


@pytest.mark.slow
def test_half_open_connections_never_exhaust_the_descriptors(tmp_path: Path) -> None:
    """1,100 half-open connections from 20 addresses against a 256-descriptor process: refused, never EMFILE."""
    server = CollectProcess(tmp_path / "fd.db", ORIGIN, fd_limit=256).start()
    sockets: list[socket.socket] = []
    try:
        for index in range(1100):
            sock = socket.socket()
            sockets.append(sock)
            sock.setblocking(False)
            sock.bind((f"127.0.3.{1 + index % 20}", 0))
            sock.connect_ex(("127.0.0.1", server.port))
        time.sleep(1.5)  # the handshakes complete; then every connection starts headers it never ends
        for sock in sockets:
            with contextlib.suppress(OSError):  # refused and closed already
                sock.send(b"POST /batches HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        try:
            status, _, answer = server.post(make_batch(session="honest-0123456789abc"), source="127.0.0.2")
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The cap in all is full: the 503 is written and the socket closed while the body is still on its
            # way, so the kernel may reset the connection before the client reads the answer. The page retries.
            status, answer = 503, repr(exc)
        assert status in (200, 503), answer  # the cap in all may be full: a cheap refusal, retried by the page
        time.sleep(HEADER_SECONDS + 1.5)
        assert server.post(make_batch(session="honest-0123456789abc", sequence=1), source="127.0.0.2")[0] == 200
        assert server.alive()
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log and "Too many open files" not in log, log[-3000:]


def test_the_connection_cap_stays_well_below_the_descriptor_limit() -> None:
    assert connection_cap(1024) == 512
    assert connection_cap(1_000_000) == MAX_CONNECTIONS
    assert connection_cap(-1) == MAX_CONNECTIONS  # RLIM_INFINITY
    # asyncio accepts up to the backlog in one go: a few such bursts fit in the descriptors the cap leaves free.
    assert 3 * accept_backlog(connection_cap(256)) <= 256 - connection_cap(256) - 32


# --- 14. A costly body does not stop the loop ---------------------------------------------------------------


def test_the_worst_case_body_is_valid_and_near_the_size_limit() -> None:
    body = worst_case_body()
    assert MAX_BODY_BYTES * 0.9 < len(body) <= MAX_BODY_BYTES
    assert len(parse_batch(body).samples) == MAX_SAMPLES


def test_parsing_a_worst_case_batch_happens_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server parses bodies on its worker thread; the loop's stall on and off it is printed side by side.

    The figures are for reading, not asserting: off the loop the stall is what the parser holds the interpreter
    lock for (13-30 ms on an idle machine, ~130-280 ms with the other core busy), on it the whole parse (210-446
    ms), so a bound on them only measures how busy the machine is.
    """
    body = worst_case_body()
    threads: list[int] = []

    def parse_here(data: bytes) -> Batch:
        threads.append(threading.get_ident())
        return parse_batch(data)

    monkeypatch.setattr(server_module, "parse_batch", parse_here)

    async def inline() -> None:
        parse_batch(body)

    async def measure() -> tuple[list[float], list[float], int]:
        parser = BatchParser()
        try:
            before = [await loop_stall_ms(inline) for _ in range(3)]
            return before, [await loop_stall_ms(lambda: parser.parse(body)) for _ in range(3)], threading.get_ident()
        finally:
            parser.close()

    # A thread of its own: a browser test in the same worker may leave an event loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        before, after, loop_thread = pool.submit(asyncio.run, measure()).result()
    shown = ", ".join(f"{ms:.0f}" for ms in before), ", ".join(f"{ms:.0f}" for ms in after)
    print(f"loop blocked per worst-case batch ({len(body)} bytes): {shown[0]} ms parsed on the loop; {shown[1]} ms off it")
    assert len(threads) == 3 and loop_thread not in threads and len(set(threads)) == 1, threads


def test_samples_encoded_one_at_a_time_keep_the_stored_text_and_digest() -> None:
    """Batches stored by earlier servers must still be recognised as duplicates: the same text, the same digest."""
    batch = make_batch(count=5, study="pilot")
    batch["samples"][2] |= {"source": "\ud800", "zeta": 1, "alpha": [1.5, -0.0]}
    parsed = parse_batch(json.dumps(batch).encode())
    samples, meta = batch["samples"], batch["meta"]
    assert parsed.samples_json == json.dumps(samples, separators=(",", ":"), allow_nan=False)
    assert parsed.digest == hashlib.sha256(canonical([batch["study"], meta, samples]).encode()).hexdigest()
    no_meta = parse_batch(json.dumps({**batch, "meta": None, "study": None}).encode())
    assert no_meta.digest == hashlib.sha256(canonical([None, None, samples]).encode()).hexdigest()


@pytest.mark.slow
def test_health_answers_while_worst_case_batches_are_parsed(tmp_path: Path) -> None:
    server = CollectProcess(tmp_path / "heavy.db", ORIGIN).start()
    try:
        body = worst_case_body()
        results: list[int] = []

        def send(source: str) -> None:
            results.append(server.post(body, source=source)[0])

        senders = [threading.Thread(target=send, args=(f"127.0.0.{10 + i}",)) for i in range(3)]
        for sender in senders:
            sender.start()
        time.sleep(0.1)  # the bodies are in; their parsing has begun
        latencies: list[float] = []
        while any(sender.is_alive() for sender in senders) and len(latencies) < 50:
            began = time.monotonic()
            assert server.request("GET", path="/health", source="127.0.0.2")[0] == 200
            latencies.append((time.monotonic() - began) * 1000)
        for sender in senders:
            sender.join(timeout=60)
        assert results == [200, 200, 200] or set(results) <= {200, 503}, results
        print(f"/health during worst-case parsing: max {max(latencies):.0f} ms over {len(latencies)} requests")
        # Parsing on the loop stalled it for 270-320 ms per worst-case body (726 ms for three); off the loop
        # /health answers in a few ms, with room here for a machine the rest of the suite keeps busy.
        assert latencies and max(latencies) < 250, latencies
    finally:
        server.stop()


# --- 15. Storage quota --------------------------------------------------------------------------------------


def big_batch(session: str, sequence: int = 0) -> dict[str, object]:
    """About 120 KB: the most bare samples a batch may carry."""
    bare = {"t": 0, "x": 0, "y": 0, "viewport": [1280, 800], "scroll": [0, 0]}
    return make_batch(session=session, sequence=sequence, samples=[bare] * MAX_SAMPLES)


def test_a_full_database_refuses_new_sessions_with_507(tmp_path: Path) -> None:
    limit = 2_000_000  # 17 batches of 120 KB; the overdraft, 200 KB, takes one or two more
    server = CollectProcess(tmp_path / "small.db", ORIGIN, None, "--max-db-bytes", str(limit), "--rate", "1000", "--burst", "1000")
    server.start()
    try:
        statuses = []
        for index in range(30):
            status, headers, answer = server.post(big_batch(f"filler-{index:02d}-0123456789"))
            statuses.append(status)
            if status != 200:
                break
        assert statuses[-1] == 507 and 5 <= len(statuses) < 30, statuses
        assert "--max-db-bytes" in answer["error"] and int(headers["retry-after"]) > 0, answer
        # A session already stored finishes (up to the overdraft); a retry of a stored batch is still a duplicate.
        assert server.post(big_batch("filler-00-0123456789", sequence=1))[0] == 200
        status, _, answer = server.post(big_batch("filler-00-0123456789"))
        assert status == 200 and answer["duplicate"], answer
        more = [server.post(big_batch("filler-01-0123456789", sequence=s))[0] for s in range(1, 30)]
        assert more[0] == 200 and more[-1] == 507, more  # the overdraft is bounded too
        size = sum(p.stat().st_size for p in tmp_path.glob("small.db*") if not p.name.endswith(".log"))
        assert size < limit * 1.25, size
    finally:
        server.stop()


def test_a_session_stops_at_its_cap(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "capped.db")
    session = "long-session-0123456789"

    def batch(sequence: int, count: int) -> Batch:  # built directly: validating 324,000 samples is not the point here
        return Batch(session, None, sequence, None, [{}] * count, "[]", None, f"digest-{sequence}")

    full = MAX_SESSION_SAMPLES // MAX_SAMPLES
    outcomes = storage.store([batch(s, MAX_SAMPLES) for s in range(full)])
    assert {o.status for o in outcomes} == {STORED}
    rest = MAX_SESSION_SAMPLES - full * MAX_SAMPLES
    (last,) = storage.store([batch(full, rest + 1)])
    assert last.status == SESSION_FULL and f"{MAX_SESSION_SAMPLES:,}" in last.reason, last
    if rest:
        assert storage.store([batch(full, rest)])[0].status == STORED
    assert storage.store([batch(full + 1, 1)])[0].status == SESSION_FULL
    storage.close()
    # The count survives a restart (it is read back from the database, not only kept in memory).
    again = Storage(tmp_path / "capped.db")
    assert again.store([batch(full + 2, 1)])[0].status == SESSION_FULL
    again.close()


@pytest.mark.slow
def test_the_server_answers_422_past_a_sessions_cap_and_serves_other_sessions(tmp_path: Path) -> None:
    server = CollectProcess(tmp_path / "capped.db", ORIGIN, None, "--rate", "1000", "--burst", "1000").start()
    session = "long-session-0123456789"
    try:
        full = MAX_SESSION_SAMPLES // MAX_SAMPLES
        statuses = {server.post(big_batch(session, sequence))[0] for sequence in range(full)}
        assert statuses == {200}, statuses
        rest = MAX_SESSION_SAMPLES - full * MAX_SAMPLES
        status, _, answer = server.post(make_batch(session=session, sequence=full, count=rest + 1))
        assert status == 422 and f"at most {MAX_SESSION_SAMPLES:,} per session" in answer["error"], (status, answer)
        assert server.post(make_batch(session="another-session-0123456789"))[0] == 200
    finally:
        server.stop()


def test_the_storage_refuses_a_new_session_over_its_limit(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "tiny.db", max_bytes=1)
    (outcome,) = storage.store([parse_batch(json.dumps(make_batch()).encode())])
    assert outcome.status == FULL and "--max-db-bytes 1" in outcome.reason
    storage.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--max-db-bytes", "0"], "--max-db-bytes"), (["--trust-proxy", "-1"], "--trust-proxy")],
)
def test_bad_limit_options_are_one_line_errors(args: list[str], message: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "gazesite", "collect", "--db", str(tmp_path / "x.db"), "--origin", ORIGIN, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
