"""A real ``gazesite collect`` process on a free port, and raw HTTP to it, for the collection tests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gazesite.collect.protocol import BATCH_FORMAT, BATCH_VERSION


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CollectProcess:
    """``python -m gazesite collect`` in a subprocess; kill() is SIGKILL, start() (re)starts it on the same port."""

    def __init__(self, db: Path, origin: str, port: int | None = None, *extra: str) -> None:
        self.db, self.origin, self.port, self.extra = Path(db), origin, port or free_port(), extra
        self.log = self.db.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CollectProcess:
        command = [
            sys.executable,
            "-m",
            "gazesite",
            "collect",
            "--db",
            str(self.db),
            "--origin",
            self.origin,
            "--port",
            str(self.port),
            *self.extra,
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gazesite collect exited with {self.process.returncode}: {self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gazesite collect did not listen within 30 s") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/batches"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def request(
        self, method: str, body: bytes | None = None, headers: dict[str, str] | None = None, path: str = "/batches"
    ) -> tuple[int, dict[str, str], Any]:
        """One request on a fresh connection; returns (status, headers, parsed JSON body or raw text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            try:
                payload: Any = json.loads(data)
            except ValueError:
                payload = data.decode(errors="replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
        finally:
            connection.close()

    def post(
        self, body: bytes | str | dict[str, Any], origin: str | None = None, content_type: str = "application/json"
    ) -> tuple[int, dict[str, str], Any]:
        """POST a batch (a dict is serialised) from ``origin`` (default: the allowed one)."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
        return self.request("POST", data, {"Origin": origin or self.origin, "Content-Type": content_type})


def make_batch(
    session: str = "session-0123456789",
    sequence: int = 0,
    count: int = 3,
    study: str | None = "pilot",
    t0: float = 0.0,
    **extra: Any,
) -> dict[str, Any]:
    """A valid batch of ``count`` v1 samples, as the page sends them."""
    samples = [
        {
            "t": round(t0 + 33.3 * i, 1),
            "x": 100.5 + i,
            "y": 200.25,
            "viewport": [1280, 800],
            "scroll": [0, 0],
            "dpr": 1,
            "face": [110, 60, 96, 96],
            "source": "model",
        }
        for i in range(count)
    ]
    meta = {
        "format": "gazesite-samples",
        "version": 1,
        "target": "https://example.org/",
        "started": "2026-01-01T00:00:00.000Z",
        "mode": "frame",
        "screen": [1920, 1080],
        "calibration": None,
        "pages": [],
    }
    return {
        "format": BATCH_FORMAT,
        "version": BATCH_VERSION,
        "session": session,
        "study": study,
        "sequence": sequence,
        "meta": meta,
        "samples": samples,
        **extra,
    }
