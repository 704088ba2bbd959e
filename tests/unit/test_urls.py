"""gazesite.urls: every URL rule in one module, checked on the edge cases each caller relies on."""

from __future__ import annotations

import pytest

from gazesite import urls


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://example.org/page", None),
        ("https://" + "a" * 2048, "at most 2048 characters"),
        ("https://exa mple.org/", "spaces or control characters"),
        ("https://example.org:99999/", "not a valid URL"),
        ("ftp://example.org/", "absolute http:// or https:// URL"),
        ("https://user:pw@example.org/", "user name or password"),
        ("http://[::1]:8080/", "IPv6 address"),
        ("https://under_score.example/", "Content-Security-Policy"),
    ],
)
def test_target_url_problem(url: str, problem: str | None) -> None:
    found = urls.target_url_problem(url)
    assert found is None if problem is None else problem in (found or "")


def test_an_international_host_becomes_punycode_and_nothing_else_changes() -> None:
    assert urls.canonical_target("https://bücher.example:8443/a?b=c#d") == "https://xn--bcher-kva.example:8443/a?b=c#d"
    assert urls.canonical_target("https://example.org/x") == "https://example.org/x"


def test_collect_urls_need_https_except_on_this_machine() -> None:
    assert urls.collect_url_problem("https://collect.example/c") is None
    assert urls.collect_url_problem("http://localhost:8080/c") is None
    assert "must be https://" in (urls.collect_url_problem("http://collect.example/c") or "")
    assert "#fragment" in (urls.collect_url_problem("https://collect.example/c#x") or "")


def test_origins_as_browsers_send_them() -> None:
    assert urls.canonical_origin("HTTPS://Study.Example:443/") == ("https://study.example", None)
    assert urls.canonical_origin("http://localhost:8000") == ("http://localhost:8000", None)
    assert "without a path" in (urls.canonical_origin("https://study.example/page")[1] or "")
    assert urls.origin_of("https://Example.org:8443/a/b") == "https://example.org:8443"
    assert urls.allowed_origin("https://example.org/") == ("example.org", 443)
    assert urls.allowed_origin("http://example.org:8080/") == ("example.org", 8080)


def test_what_is_meant_as_a_url() -> None:
    assert urls.has_scheme("https://example.org/") and urls.has_scheme("http://[::1")  # malformed, still a URL
    assert not urls.has_scheme("site/folder") and not urls.has_scheme("page.png")


def test_consent_links_and_proxy_requests() -> None:
    assert urls.safe_link("mailto:study@example.org") == "mailto:study@example.org"
    assert urls.safe_link("javascript:alert(1)") is None and urls.safe_link("https://x.example/a b") is None
    assert urls.proxy_request_target("http://example.org/a?b=1") == ("example.org", 80, "/a?b=1")
    assert urls.proxy_request_target("http://example.org:8080") == ("example.org", 8080, "/")
    assert urls.proxy_request_target("/relative") is None and urls.proxy_request_target("https://example.org/") is None
    with pytest.raises(ValueError):
        urls.proxy_request_target("http://example.org:99999/")
    assert urls.request_path("/a%20b/index.html?x=1") == "/a b/index.html"
