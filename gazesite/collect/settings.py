"""Settings of ``gazesite collect``: checked before the server (and aiohttp) starts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from gazesite.collect.protocol import DEFAULT_BURST, DEFAULT_MAX_DB_BYTES, DEFAULT_RATE
from gazesite.errors import ConfigError
from gazesite.urls import canonical_origin

#: Most proxy hops --trust-proxy may name.
MAX_PROXY_HOPS = 16


@dataclass(frozen=True)
class CollectConfig:
    """Settings of ``gazesite collect``."""

    db: Path
    origin: str
    host: str = "127.0.0.1"
    port: int = 8080
    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST
    trust_proxy: int = 0  # reverse-proxy hops in front of the server whose X-Forwarded-For entries are believed
    max_db_bytes: int = DEFAULT_MAX_DB_BYTES

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
        if not 0 <= self.trust_proxy <= MAX_PROXY_HOPS:
            problems.append(f"--trust-proxy {self.trust_proxy}: expected the number of proxies in front, 0 to {MAX_PROXY_HOPS}")
        if self.max_db_bytes < 1:
            problems.append(f"--max-db-bytes {self.max_db_bytes}: expected a positive number of bytes")
        if problems:
            raise ConfigError(problems)
        return CollectConfig(Path(self.db), origin, self.host, self.port, self.rate, self.burst, self.trust_proxy, self.max_db_bytes)
