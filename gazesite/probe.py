"""Ask the target at build time whether it lets other sites frame it.

A browser does not tell a page why a cross-origin iframe stayed blank, so
the page cannot find out on its own that the target sent
``X-Frame-Options`` or ``Content-Security-Policy: frame-ancestors``. The build
asks instead, and the page shows the answer as its status.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 4.0


@dataclass(frozen=True)
class FrameCheck:
    """Whether the target can be framed: True, False, or None when unknown."""

    frameable: bool | None
    reason: str


def framing_verdict(x_frame_options: str | None, content_security_policy: str | None) -> FrameCheck:
    """Decide from the two response headers whether a foreign site may frame the page."""
    if x_frame_options:
        value = x_frame_options.strip().lower()
        if value in ("deny", "sameorigin") or value.startswith("allow-from"):
            return FrameCheck(False, f"the target sends X-Frame-Options: {x_frame_options.strip()}")
    for directive in (content_security_policy or "").split(";"):
        name, _, sources = directive.strip().partition(" ")
        if name.lower() == "frame-ancestors":
            tokens = sources.split()
            if "*" not in tokens:
                return FrameCheck(False, f"the target sends Content-Security-Policy: frame-ancestors {sources.strip()}")
    return FrameCheck(True, "the target allows framing")


def probe_target(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> FrameCheck:
    """Fetch the target once and read its framing headers; never raises."""
    request = urllib.request.Request(url, headers={"User-Agent": "gazesite-build"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:  # an error page still carries the headers
        headers = exc.headers
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("could not reach %s to check whether it can be framed (%s); the page will try anyway", url, exc)
        return FrameCheck(None, f"the target could not be reached at build time ({exc})")
    policies = headers.get_all("Content-Security-Policy") or []
    return framing_verdict(headers.get("X-Frame-Options"), ";".join(policies))
