"""A ``gazesite collect`` server in a child process on 127.0.0.1, as the load test and the tests run it.

``kill()`` is SIGKILL, with no clean-up of any kind, as a crash or the OOM
killer would end it; ``start()`` (re)starts it on the same port.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``python -m gazesite collect`` in a subprocess on 127.0.0.1; kill() is SIGKILL, start() (re)starts it on the same port."""

    def __init__(self, db: Path, origin: str, port: int | None = None, *extra: str, fd_limit: int | None = None) -> None:
        self.db, self.origin, self.port, self.extra = Path(db), origin, port or free_port(), extra
        self.fd_limit = fd_limit  # the child's RLIMIT_NOFILE, soft and hard (a small machine's 1,024, or less), if given
        self.log = self.db.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu_seconds = 0.0  # CPU time of the processes that have ended (Linux; 0 elsewhere)

    def start(self, timeout: float = 30.0) -> Self:
        """Start and wait until it accepts connections."""
        command = [sys.executable, "-m", "gazesite", "collect", "--db", str(self.db), "--origin", self.origin]
        command += ["--host", "127.0.0.1", "--port", str(self.port), *self.extra]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=self._limit_descriptors if self.fd_limit else None,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gazesite collect exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gazesite collect did not listen within {timeout:g} s") from None
                time.sleep(0.05)

    def _limit_descriptors(self) -> None:
        """In the child before exec: lower its file-descriptor limit, the hard one too (so it cannot raise it)."""
        assert self.fd_limit is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.fd_limit, self.fd_limit))

    @property
    def url(self) -> str:
        """Where the pages post (any path would do)."""
        return f"http://127.0.0.1:{self.port}/batches"

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process is not None and self.process.poll() is None

    def process_cpu_seconds(self) -> float:
        """CPU time (user + system) the running server process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()  # type: ignore[union-attr]
        except (OSError, AttributeError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer would."""
        assert self.process is not None
        self.cpu_seconds += self.process_cpu_seconds()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (the server finishes what it holds), SIGKILL if it does not end in 15 s."""
        if self.alive():
            assert self.process is not None
            self.cpu_seconds += self.process_cpu_seconds()
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
