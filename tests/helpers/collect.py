"""A real ``gazesite collect`` process on a free port, and raw HTTP to it, for the collection tests."""

from __future__ import annotations

import http.client
import json
from typing import Any

from gazesite.collect.process import ServerProcess, free_port
from gazesite.collect.protocol import BATCH_FORMAT, BATCH_VERSION

__all__ = ["CollectProcess", "free_port", "make_batch"]


class CollectProcess(ServerProcess):
    """``python -m gazesite collect`` in a subprocess (see ServerProcess), with raw HTTP requests to it."""

    def request(
        self,
        method: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        path: str = "/batches",
        source: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One request on a fresh connection (from loopback address ``source``); returns (status, headers, JSON or text)."""
        address = (source, 0) if source else None
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=address)
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
        self,
        body: bytes | str | dict[str, Any],
        origin: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        source: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """POST a batch (a dict is serialised) from ``origin`` (default: the allowed one), with extra ``headers``."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
        sent = {"Origin": origin or self.origin, "Content-Type": content_type, **(headers or {})}
        return self.request("POST", data, sent, source=source)


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
