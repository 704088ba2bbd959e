"""Every URL gazesite reads or writes, parsed and checked in one place.

Targets, redirects, --collect and --finish-url, collect origins, consent
links, the capture proxy's requests: each goes through these functions, so
one set of rules (length, scheme, host a Content-Security-Policy can name,
punycode for international names) holds everywhere.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

#: The longest URL a build accepts (targets, redirects, --collect, --finish-url).
MAX_URL_LENGTH = 2048
#: A host a Content-Security-Policy source can name: Chromium refuses '_', non-ASCII and IPv6 literals there.
CSP_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?")
#: Hosts for which plain http is accepted (the browser treats them as secure; nothing crosses a network).
LOCAL_HOSTS = re.compile(r"localhost|127(\.\d{1,3}){3}|.+\.localhost", re.IGNORECASE)
#: The schemes a link in a consent notice may use.
LINK_SCHEMES = ("http", "https", "mailto")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def target_url_problem(url: str) -> str | None:
    """Return why ``url`` cannot be a build target, or None if it can."""
    if not url or len(url) > MAX_URL_LENGTH:
        return f"must be an absolute http(s) URL of at most {MAX_URL_LENGTH} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an absolute http:// or https:// URL"
    if not parts.hostname:
        return "must name a host, as in https://example.com/"
    if parts.username or parts.password:
        return "must not carry a user name or password"
    try:
        canonical_host(parts.hostname)
    except ValueError as exc:
        return f"host {parts.hostname!r} {exc}"
    return None


def canonical_host(host: str) -> str:
    """Return ``host`` as the page's CSP and the browser name it (an IDN in punycode); ValueError says why it cannot be."""
    import idna  # only builds and the collect server check hosts

    if ":" in host:  # urlsplit gives an IPv6 literal without its brackets
        raise ValueError(
            "is an IPv6 address, which Chromium does not accept in a Content-Security-Policy, so the page could never frame it: "
            "give a host name that resolves to it instead (for example one in /etc/hosts)"
        )
    try:
        if not host.isascii():  # UTS 46, non-transitional: what Chromium does with the same host
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        elif "xn--" in host.lower():  # already punycode: it must decode
            idna.decode(host)
    except UnicodeError as exc:  # idna.IDNAError, and the codec errors beneath it
        raise ValueError(f"is not a valid internationalised domain name ({exc})") from None
    if not CSP_HOST.fullmatch(host):
        raise ValueError("cannot be named in a Content-Security-Policy: a host name has letters, digits, '-' and '.' only")
    return host


def canonical_target(url: str) -> str:
    """Return a valid target URL with its host as the browser sends it (punycode for an IDN), the rest unchanged."""
    parts = urlsplit(url)
    host = canonical_host(parts.hostname or "")
    if host == parts.hostname:
        return url
    return urlunsplit(parts._replace(netloc=host if parts.port is None else f"{host}:{parts.port}"))


def collect_url_problem(url: str) -> str | None:
    """Return why ``url`` cannot be a --collect URL, or None if it can."""
    if problem := target_url_problem(url):
        return problem
    parts = urlsplit(url)
    if parts.fragment:
        return "must not have a #fragment"
    if parts.scheme.lower() != "https" and not LOCAL_HOSTS.fullmatch(parts.hostname or ""):
        return "must be https:// (plain http is only for localhost): browsers block it from https pages and it travels unencrypted"
    return None


def canonical_origin(text: str) -> tuple[str, str | None]:
    """Return (the origin as browsers send it in Origin headers, None) or (text, why it is not an origin)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return text, "is not a valid origin"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return text, "expected the page's origin, scheme://host[:port], as in https://study.example.org"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return text, "expected only scheme://host[:port], without a path, query or user"
    try:
        host = canonical_host(parts.hostname)
    except ValueError as exc:
        return text, f"host {exc}"
    default = _DEFAULT_PORTS[parts.scheme.lower()]
    return f"{parts.scheme.lower()}://{host.lower()}" + (f":{port}" if port not in (None, default) else ""), None


def origin_of(url: str) -> str:
    """Return scheme://host[:port] of an http(s) URL."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origin(url: str) -> tuple[str, int]:
    """The (host, port) of a URL, as the capture proxy's fence compares them."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def host_name(url: str) -> str | None:
    """The host a URL names, or None."""
    return urlsplit(url).hostname


def has_scheme(text: str) -> bool:
    """True when ``text`` starts with a URL scheme (so it is meant as a URL, not a local path)."""
    try:
        return bool(urlsplit(text).scheme)
    except ValueError:  # a malformed URL (an unclosed IPv6 bracket) is still meant as one
        return True


def safe_link(url: str) -> str | None:
    """The URL if a consent link may point there (http, https or mailto), else None."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in LINK_SCHEMES and not any(ord(ch) < 33 for ch in url) else None


def proxy_request_target(target: str) -> tuple[str, int, str] | None:
    """(host, port, origin-form target) of a proxy request's absolute http URL; None if it is not one, ValueError for a bad port."""
    parts = urlsplit(target)
    if parts.scheme != "http" or not parts.hostname:
        return None
    return parts.hostname, parts.port or 80, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def request_path(target: str) -> str:
    """The decoded path of an HTTP request target (its query dropped)."""
    return unquote(urlsplit(target).path)
