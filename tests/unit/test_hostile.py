"""Inputs an attacker or a careless user hands gazesite: each is refused in one line or contained."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gazesite.errors import GazesiteError
from gazesite.site.probe import MAX_REDIRECTS, PROBE_TOTAL_SECONDS, probe_target
from gazesite.site.serve import make_server
from gazesite.staging import BUILD_OUTPUT, out_problem, staged_directory
from tests.helpers import servers


def test_failed_swap_keeps_the_previous_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    (out / "index.html").write_text("previous build")
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self.name.startswith(".dist-new-"):  # the new output refuses to move into place
            raise OSError(5, "Input/output error")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(GazesiteError, match="previous"), staged_directory(out) as staging:
        (staging / "index.html").write_text("new build")
    assert (out / "index.html").read_text() == "previous build"
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]  # nothing half-written is left beside it


def test_a_folder_holding_only_a_placeholder_counts_as_empty_and_keeps_it(tmp_path: Path) -> None:
    """The checkout's dist/ holds only .gitkeep: a build may fill it, and the placeholder survives the swap."""
    out = tmp_path / "dist"
    out.mkdir()
    (out / ".gitkeep").write_text("")
    assert out_problem(out, BUILD_OUTPUT) is None
    with staged_directory(out) as staging:
        (staging / "index.html").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [".gitkeep", "index.html"]


def test_a_placeholder_beside_other_files_or_a_linked_placeholder_is_not_empty(tmp_path: Path) -> None:
    beside = tmp_path / "beside"
    beside.mkdir()
    (beside / ".gitkeep").write_text("")
    (beside / "notes.txt").write_text("mine")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".gitkeep").symlink_to(tmp_path / "beside" / "notes.txt")
    for out in (beside, linked):
        assert "will not replace it" in (out_problem(out, BUILD_OUTPUT) or ""), out


@pytest.fixture
def served_folder(tmp_path: Path) -> Iterator[str]:
    """A folder served by ``gazesite serve``'s server, with links that lead out of it."""
    site = tmp_path / "site"
    (site / "app").mkdir(parents=True)
    (site / "index.html").write_text("<p>the page</p>")
    (site / "app" / "main.js").write_text("export {};")
    (tmp_path / "secret.txt").write_text("private key")
    (site / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (site / "app" / "outside").symlink_to(tmp_path)
    (site / "alias.html").symlink_to(site / "index.html")  # a link that stays inside is fine
    (site / "loop.html").symlink_to("loop.html")  # a link loop serves nothing and crashes nothing
    server = make_server(site, port=0, host="127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(url: str) -> tuple[int, bytes]:
    """GET a URL; return the status and body, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_gives_only_regular_files_inside_the_folder(served_folder: str) -> None:
    assert fetch(served_folder + "/") == (200, b"<p>the page</p>")
    assert fetch(served_folder + "/app/main.js") == (200, b"export {};")
    assert fetch(served_folder + "/alias.html") == (200, b"<p>the page</p>")
    for path in (
        "/loop.html",
        "/leak.txt",
        "/app/outside/secret.txt",
        "/app/",
        "/app",
        "/app/outside/",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
    ):
        status, body = fetch(served_folder + path)
        assert status == 404, path
        assert b"private key" not in body and b"main.js" not in body, path  # no file leaked, no listing


@pytest.fixture
def raw_server() -> Iterator[Callable[..., servers.RawServer]]:
    """Start misbehaving servers on free ports; all stop at the end of the test."""
    started: list[servers.RawServer] = []

    def start(respond: Callable[..., None]) -> servers.RawServer:
        started.append(servers.RawServer(respond))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize(
    "respond", [servers.huge_header, servers.many_headers, servers.bad_status_line], ids=["10MB-header", "200-headers", "bad-status-line"]
)
def test_probe_of_a_broken_target_is_unknown_not_a_crash(
    raw_server: Callable[..., servers.RawServer], respond: Callable[..., None]
) -> None:
    server = raw_server(respond)
    started = time.monotonic()
    check = probe_target(server.url)
    assert check.frameable is None and "could not" in check.reason
    assert time.monotonic() - started < 5


@pytest.mark.slow  # waits out the 10 s bound
def test_probe_time_is_bounded_in_total(raw_server: Callable[..., servers.RawServer]) -> None:
    server = raw_server(servers.trickle)
    started = time.monotonic()
    check = probe_target(server.url)
    elapsed = time.monotonic() - started
    assert check.frameable is None and f"{PROBE_TOTAL_SECONDS:g} s" in check.reason
    assert PROBE_TOTAL_SECONDS <= elapsed < PROBE_TOTAL_SECONDS + 1.5


@pytest.fixture
def redirect_server() -> Iterator[servers.RedirectServer]:
    server = servers.RedirectServer()
    yield server
    server.close()


def test_probe_records_where_the_target_redirects(redirect_server: servers.RedirectServer) -> None:
    check = probe_target(redirect_server.url("/start"))
    assert check.frameable is True
    assert check.redirects == (f"http://localhost:{redirect_server.port}/final",)
    assert check.final_url == f"http://localhost:{redirect_server.port}/final"


@pytest.mark.parametrize(("path", "reason"), [("/loop/0", f"more than {MAX_REDIRECTS} redirects"), ("/ftp", "ftp")])
def test_probe_follows_few_redirects_and_only_to_http(redirect_server: servers.RedirectServer, path: str, reason: str) -> None:
    check = probe_target(redirect_server.url(path))
    assert check.frameable is None and reason in check.reason and check.redirects == ()
    assert len(redirect_server.paths) <= MAX_REDIRECTS + 1
