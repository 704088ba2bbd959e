"""``gazesite collect`` as a real process: valid batches are stored once, hostile requests get a 4xx and change nothing."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gazesite.collect.clients import RateLimiter
from gazesite.collect.protocol import MAX_BODY_BYTES
from gazesite.collect.storage import database_counts, read_sessions
from tests.helpers.collect import CollectProcess, make_batch

ORIGIN = "http://localhost:8123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectProcess]:
    # A generous rate limit: these tests send many requests from one address; the limit has its own test.
    process = CollectProcess(tmp_path_factory.mktemp("collect") / "gaze.db", ORIGIN, None, "--rate", "1000", "--burst", "1000").start()
    yield process
    process.stop()


@pytest.fixture
def alive(server: CollectProcess) -> Iterator[CollectProcess]:
    """The server, checked to be serving valid batches after the test (whatever the test threw at it)."""
    yield server
    assert server.alive(), server.log.read_text()
    session = f"after-{time.monotonic_ns()}-check"[:64]
    status, _, answer = server.post(make_batch(session=session))
    assert status == 200 and answer["ok"], answer


def test_a_batch_is_stored_once_however_often_it_is_sent(alive: CollectProcess) -> None:
    batch = make_batch(session="once-0123456789abcdef", count=5)
    first = alive.post(batch)
    assert first[0] == 200 and first[2] == {
        "ok": True,
        "session": batch["session"],
        "sequence": 0,
        "duplicate": False,
        "samples": 5,
    }
    for _ in range(3):
        again = alive.post(batch)
        assert again[0] == 200 and again[2]["duplicate"] is True
    (stored,) = [s for s in read_sessions(alive.db) if s["session"] == batch["session"]]
    assert [{k: s[k] for k in batch["samples"][0]} for s in stored["samples"]] == batch["samples"]
    assert stored["collected"]["batches"] == 1


def test_the_same_key_with_other_content_is_a_conflict(alive: CollectProcess) -> None:
    batch = make_batch(session="conflict-0123456789", count=2)
    assert alive.post(batch)[0] == 200
    other = make_batch(session="conflict-0123456789", count=3)
    status, _, answer = alive.post(other)
    assert status == 409 and "other content" in answer["error"]
    moved = make_batch(session="conflict-0123456789", sequence=1, study="another-study")
    status, _, answer = alive.post(moved)
    assert status == 409 and "belongs to study 'pilot'" in answer["error"]


def test_cors_answers_only_the_allowed_origin(alive: CollectProcess) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    status, headers, _ = alive.request("OPTIONS", headers={"Origin": ORIGIN, **preflight})
    assert status == 204 and headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-methods"] == "POST" and headers["access-control-allow-headers"] == "Content-Type"
    for origin in ("http://evil.example", "http://localhost:8124", "null"):
        status, headers, answer = alive.request("OPTIONS", headers={"Origin": origin, **preflight})
        assert status == 403 and "access-control-allow-origin" not in headers, (origin, headers)
        assert ORIGIN in answer["error"]
    status, headers, _ = alive.request(
        "OPTIONS",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-evil"},
    )
    assert status == 403
    status, headers, _ = alive.post(make_batch(session="cors-0123456789abcd"))
    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN and headers["vary"] == "Origin"


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


HOSTILE = {
    "not JSON": (b"this is not json", 400, "not valid JSON"),
    "not UTF-8": (b'{"a": "\xff\xfe"}', 400, "not UTF-8"),
    "a JSON array": (b"[1, 2, 3]", 400, "JSON object"),
    "JSON null": (b"null", 400, "JSON object"),
    "100 000-deep nesting": (deep(100_000), 400, "nested deeper"),
    "100 000-deep object nesting": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, 400, "nested deeper"),
    "9-deep nesting inside a valid batch": (
        json.dumps(make_batch(samples=[{"t": 0, "x": 1, "y": 2, "extra": [[[[[[[[1]]]]]]]]}])).encode(),
        400,
        "nested deeper",
    ),
    "a 5000-digit integer": (b'{"sequence": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
    "NaN": (json.dumps(make_batch()).replace('"x": 100.5', '"x": NaN').encode(), 400, "holds NaN, which is not JSON"),
    "Infinity": (json.dumps(make_batch()).replace('"y": 200.25', '"y": Infinity').encode(), 400, "holds Infinity"),
    "1e999": (json.dumps(make_batch()).replace('"y": 200.25', '"y": 1e999').encode(), 400, "too large for a float"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_bodies_get_400_with_a_one_line_reason(case: str, alive: CollectProcess) -> None:
    body, expected, reason = HOSTILE[case]
    status, _, answer = alive.post(body)
    assert status == expected, answer
    assert reason in answer["error"] and "\n" not in answer["error"]


#: The least a sample holds: what the report needs of every sample.
BARE = {"t": 0, "x": 0, "y": 0, "viewport": [1280, 800], "scroll": [0, 0]}

WRONG_SCHEMA: dict[str, tuple[dict[str, Any], str]] = {
    "no format": ({"format": None}, "format"),
    "version 2": ({"version": 2}, "version"),
    "short session": ({"session": "abc"}, "session"),
    "session with a slash": ({"session": "../../etc/passwd-xxxxx"}, "session"),
    "bad study": ({"study": "<script>"}, "study"),
    "negative sequence": ({"sequence": -1}, "sequence"),
    "sequence as a string": ({"sequence": "0"}, "sequence"),
    "boolean sequence": ({"sequence": True}, "sequence"),
    "no samples": ({"samples": []}, "samples"),
    "samples not an array": ({"samples": {"t": 1}}, "samples"),
    "too many samples": ({"samples": [BARE] * 2001}, "samples"),
    "a sample without t": ({"samples": [{"x": 0, "y": 0}]}, "sample 1: 't'"),
    "a sample without viewport": ({"samples": [{"t": 0, "x": 0, "y": 0, "scroll": [0, 0]}]}, "sample 1: 'viewport'"),
    "a string x": ({"samples": [{**BARE, "x": "1"}]}, "sample 1: 'x'"),
    "an x a thousand screens away": ({"samples": [{**BARE, "x": 5e9}]}, "sample 1: 'x'"),
    "a time beyond a day": ({"samples": [{**BARE, "t": 1e11}]}, "sample 1: 't'"),
    "a face of 3 numbers": ({"samples": [{**BARE, "face": [1, 2, 3]}]}, "sample 1: 'face'"),
    "a long page id": ({"samples": [{**BARE, "page": "/" + "a" * 2048}]}, "sample 1: 'page'"),
    "a terminal escape in an element": ({"samples": [{**BARE, "element": "div\x1b[2J"}]}, "sample 1: 'element'"),
    "a long unknown string": ({"samples": [{**BARE, "note": "a" * 300}]}, "sample 1: 'note'"),
    "an object in an unknown field": ({"samples": [{**BARE, "note": {"a": 1}}]}, "sample 1: 'note'"),
    "an unknown top-level field": ({"extra": 1}, "unknown field"),
    "meta not an object": ({"meta": [1]}, "meta"),
    "an unknown mode": ({"meta": {"mode": "spy"}}, "meta.mode"),
    "meta naming another session": ({"meta": {"session": "another-session-id-0000"}}, "meta.session"),
    "a page without id": ({"meta": {"pages": [{"width": 1}]}}, "meta.pages[0]"),
    "too many pages": ({"meta": {"pages": [{"id": "p"}] * 1001}}, "meta.pages"),
}


@pytest.mark.parametrize("case", list(WRONG_SCHEMA))
def test_batches_of_the_wrong_schema_get_400_naming_the_field(case: str, alive: CollectProcess) -> None:
    changes, field = WRONG_SCHEMA[case]
    status, _, answer = alive.post({**make_batch(session="schema-0123456789abc"), **changes})
    assert status == 400, answer
    assert field in answer["error"], answer


def test_a_20_mb_body_is_refused_unread(alive: CollectProcess) -> None:
    """With Content-Length: 413 at once, from the header; the server does not read the 20 MB."""
    with socket.create_connection(("127.0.0.1", alive.port), timeout=30) as sock:
        head = f"POST /batches HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {20_000_000}\r\n\r\n"
        sock.sendall(head.encode() + b"[" * 65536)
        response = sock.recv(65536).decode()
    assert response.startswith("HTTP/1.1 413"), response
    assert "larger than 1048576 bytes" in response


def test_a_20_mb_chunked_body_is_cut_off_at_the_limit(alive: CollectProcess) -> None:
    """Without Content-Length the limit holds while reading: 413 after 1 MiB, never 20 MB in memory."""
    chunk = b" " * 65536
    status = None
    with socket.create_connection(("127.0.0.1", alive.port), timeout=30) as sock:
        sock.sendall(
            f"POST /batches HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            for _ in range(20_000_000 // len(chunk)):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except OSError:  # the server answered and closed while the rest was on its way
            pass
        status = sock.recv(65536).decode().split("\r\n", 1)[0]
    assert status == "HTTP/1.1 413 Request Entity Too Large", status


def test_a_body_just_under_the_limit_is_read_and_judged(alive: CollectProcess) -> None:
    body = json.dumps(make_batch(session="large-0123456789abcd", count=1)).encode()
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    assert alive.post(padded)[0] == 200


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null", ORIGIN + "/", "x" * 10_000])
def test_a_post_from_another_origin_is_refused(origin: str | None, alive: CollectProcess) -> None:
    headers = {"Content-Type": "application/json"} | ({"Origin": origin} if origin is not None else {})
    session = "origin-0123456789abc"
    status, response_headers, answer = alive.request("POST", json.dumps(make_batch(session=session)).encode(), headers)
    assert status in (400, 403) and "access-control-allow-origin" not in response_headers, answer
    assert session not in {s["session"] for s in read_sessions(alive.db)}


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"])
def test_other_content_types_are_refused(content_type: str, alive: CollectProcess) -> None:
    status, _, answer = alive.post(make_batch(session="ctype-0123456789abcd"), content_type=content_type)
    assert status == 415, answer


def test_sendbeacon_text_plain_is_accepted(alive: CollectProcess) -> None:
    status, _, answer = alive.post(make_batch(session="beacon-0123456789abc"), content_type="text/plain;charset=UTF-8")
    assert status == 200, answer


def test_other_methods_and_paths(alive: CollectProcess) -> None:
    assert alive.request("GET", path="/health")[0] == 200
    assert alive.request("GET", path="/")[0] == 404
    status, headers, _ = alive.request("PUT", b"{}", {"Origin": ORIGIN})
    assert status == 405 and "POST" in headers["allow"]
    assert alive.request("DELETE", path="/batches")[0] == 405


def test_a_lone_surrogate_is_kept_not_a_crash(alive: CollectProcess) -> None:
    body = json.dumps(make_batch(session="surrogate-0123456789", count=1)).replace('"model"', '"\\ud800"').encode()
    assert alive.post(body)[0] == 200
    (stored,) = [s for s in read_sessions(alive.db) if s["session"] == "surrogate-0123456789"]
    assert stored["samples"][0]["source"] == "\ud800"


@pytest.mark.slow
def test_a_body_that_never_arrives_times_out(alive: CollectProcess) -> None:
    with socket.create_connection(("127.0.0.1", alive.port), timeout=30) as sock:
        began = time.monotonic()
        sock.sendall(
            f"POST /batches HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        response = sock.recv(65536).decode()
    assert response.startswith("HTTP/1.1 408") and 9 < time.monotonic() - began < 20


def test_clients_over_the_rate_limit_get_429_with_retry_after(tmp_path: Path) -> None:
    server = CollectProcess(tmp_path / "limited.db", ORIGIN, None, "--rate", "2", "--burst", "5").start()
    try:
        statuses = []
        for index in range(12):
            status, headers, _ = server.post(make_batch(session="limited-0123456789ab", sequence=index))
            statuses.append(status)
        assert statuses[:5] == [200] * 5 and 429 in statuses[5:], statuses
        assert int(headers["retry-after"]) >= 1
        time.sleep(1.2)  # the bucket refills at 2 per second
        assert server.post(make_batch(session="limited-0123456789ab", sequence=99))[0] == 200
        assert database_counts(server.db)["batches"] == statuses.count(200) + 1
    finally:
        server.stop()


def test_the_rate_limiter_refills_and_forgets_idle_clients() -> None:
    limiter = RateLimiter(rate=2, burst=3, max_clients=2)
    assert [limiter.wait("a", now=0) for _ in range(3)] == [0, 0, 0]
    assert limiter.wait("a", now=0) == pytest.approx(0.5)
    assert limiter.wait("a", now=0.5) == 0  # one token back after 0.5 s
    limiter.wait("b", now=1)
    limiter.wait("c", now=1)
    assert list(limiter.buckets) == ["b", "c"]  # bounded: "a", idle longest, is forgotten


def collect_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gazesite", "collect", *args], check=False, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "not an origin"], "--origin"),
        (["--origin", "https://site.example/path"], "without a path"),
        (["--origin", "ftp://site.example"], "scheme://host"),
        (["--origin", ORIGIN, "--rate", "0"], "--rate"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = collect_cli("--db", str(tmp_path / "x.db"), *args)
    assert result.returncode != 0 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "x.db").exists()


def test_a_database_of_another_program_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE accounts (name TEXT)")
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all " * 100)
    for path, message in ((other, "another program"), (text, "not a database"), (tmp_path, "not a regular file")):
        result = collect_cli("--db", str(path), "--origin", ORIGIN, "--port", "0")
        assert result.returncode != 0 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_a_one_line_error(server: CollectProcess, tmp_path: Path) -> None:
    result = collect_cli("--db", str(tmp_path / "y.db"), "--origin", ORIGIN, "--port", str(server.port))
    assert result.returncode != 0 and "cannot listen" in result.stderr and len(result.stderr.strip().splitlines()) == 1
