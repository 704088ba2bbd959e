"""Who a request comes from: the client address a budget is kept under, and the per-client rate limit."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict

#: Client addresses the rate limiter remembers (least recently seen are forgotten first).
MAX_CLIENTS = 100_000
#: IPv6 clients are keyed by their /64: one subscriber usually holds a whole /64 and could rotate within it.
IPV6_CLIENT_PREFIX = 64


def client_key(peer: str, forwarded_for: list[str], trust_proxy: int) -> str:
    """The address a client's budgets are kept under: the TCP peer, or the entry the trusted proxies wrote."""
    # Each proxy appends the address it received the request from to X-Forwarded-For, so with N trusted
    # proxies the N-th entry from the right was written by the outermost one and names the client; entries
    # left of it are whatever the client sent (spoofable) and are never used. A header with fewer entries,
    # or an entry that is not an address, did not come through the proxies: the peer's key is used.
    if trust_proxy > 0:
        entries = [entry.strip() for header in forwarded_for for entry in header.split(",")]
        if len(entries) >= trust_proxy and (key := address_key(entries[-trust_proxy])):
            return key
    return address_key(peer) or peer


def address_key(text: str) -> str | None:
    """An address in canonical form (an IPv6 one as its /64, an IPv4-mapped one as IPv4), None if not an address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


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
