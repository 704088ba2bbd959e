"""What ``gazesite build --collect URL [--consent FILE.md] [--study NAME]`` adds to the page.

The collect URL is checked like a target (absolute, CSP-nameable host, no
credentials) and must be https unless it is on this machine; its origin is
the only one the page may connect to besides its own. The consent notice is
rendered here at build time from a small Markdown subset (paragraphs,
emphasis, links) into HTML built only from escaped text, so nothing in a
consent file can become markup or script.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from gazesite.bounded import InputError, read_bounded
from gazesite.collect.protocol import BATCH_FORMAT, BATCH_VERSION, MAX_BODY_BYTES
from gazesite.samples.schema import CONTROL, MAX_PAGES
from gazesite.urls import canonical_target, collect_url_problem, host_name, origin_of, safe_link

#: Largest consent file.
MAX_CONSENT_BYTES = 64 * 1024
#: How the page sends: a batch every intervalMs (or sooner at maxSamples), retries from firstMs doubling to maxMs.
#: 2 s of samples at 30 fps is 10-20 KB, under the 64 KB Chromium lets sendBeacon carry at page close.
BATCH_SETTINGS = {"intervalMs": 2000, "maxSamples": 120}
RETRY_SETTINGS = {"firstMs": 1000, "maxMs": 30_000, "timeoutMs": 15_000}
#: Where unsent batches wait across reloads (localStorage key prefix) and how much they may take (characters).
QUEUE_SETTINGS = {"key": "gazesite-collect", "maxChars": 2_000_000}

DEFAULT_CONSENT = """**This study records where you look on this page.** If you accept, the camera turns on and this \
page sends to **{host}**: your gaze samples (points on the screen with their times, the window's size and scroll \
position, and where your face is in the camera picture), how well the calibration worked, and your screen and window size.

It **never sends images or video** of you: the camera picture is processed on this device and stays here.

If you decline, nothing starts and nothing is sent. You can close this page at any time; what was already sent stays \
with the study."""


def collect_problems(collect: str | None, consent: Path | None) -> list[str]:
    """Every problem with the build's --collect and --consent options (study mode checks --study)."""
    problems = []
    if collect is not None and (problem := collect_url_problem(collect)):
        problems.append(f"--collect {collect!r}: {problem}")
    if consent is not None:
        if collect is None:
            problems.append(f"--consent {consent}: only a build that collects (--collect URL) asks for consent")
        else:
            try:
                consent_markdown(consent)
            except InputError as exc:
                problems.append(f"--consent {consent}: {exc}")
    return problems


#: What a Markdown notice may hold besides text: tabs and line breaks (every other control character is refused).
_LAYOUT = str.maketrans("", "", "\t\n\r")


def markdown_problem(text: str, what: str) -> str | None:
    """Why a Markdown notice (consent, task) cannot be shown, or None: control characters, or nothing but spaces."""
    if CONTROL.search(text.translate(_LAYOUT)):
        return "holds control characters (expected Markdown or plain text)"
    if not text.strip():
        return f"is empty (expected {what})"
    return None


def read_markdown(path: Path, limit: int, what: str) -> str:
    """Read a Markdown notice: UTF-8 text of at most ``limit`` bytes that markdown_problem accepts; InputError says why not."""
    data = read_bounded(path, limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"is not UTF-8 text (expected {what} in Markdown or plain text)") from None
    if problem := markdown_problem(text, what):
        raise InputError(problem)
    return text


def consent_markdown(path: Path) -> str:
    """Read a consent file: UTF-8 text of at most 64 KiB with no control characters; InputError says why not."""
    return read_markdown(path, MAX_CONSENT_BYTES, "the consent notice participants read")


# Inline Markdown: [text](url), **strong** / __strong__, *em* / _em_ (underscores only at word edges).
_INLINE = re.compile(
    r"\[(?P<label>[^\[\]\n]{1,500})\]\((?P<url>[^()\s]{1,2000})\)"
    r"|\*\*(?P<strong>[^*]+?)\*\*|(?<!\w)__(?P<strong2>[^_]+?)__(?!\w)"
    r"|\*(?P<em>[^*]+?)\*|(?<!\w)_(?P<em2>[^_]+?)_(?!\w)"
)
#: How deep inline markup may nest (emphasis in a link in strong text...); deeper stays plain text.
_MAX_INLINE_DEPTH = 3


def _inline(text: str, depth: int = 0) -> Markup:
    """Render inline Markdown; every piece of text passes through escape()."""
    if depth >= _MAX_INLINE_DEPTH:
        return escape(text)
    out = Markup("")
    position = 0
    for match in _INLINE.finditer(text):
        out += escape(text[position : match.start()])
        position = match.end()
        if match["label"] is not None:
            url = safe_link(match["url"])
            label = _inline(match["label"], depth + 1)
            if url is None:  # javascript:, data: and the like stay visible as text, never as a link
                out += label
            else:
                out += Markup('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(url, label)
        elif (strong := match["strong"] or match["strong2"]) is not None:
            out += Markup("<strong>{}</strong>").format(_inline(strong, depth + 1))
        else:
            out += Markup("<em>{}</em>").format(_inline(match["em"] or match["em2"], depth + 1))
    return out + escape(text[position:])


def render_consent(markdown: str) -> Markup:
    """Render the Markdown subset (paragraphs split by blank lines, emphasis, links) as safe HTML."""
    paragraphs = re.split(r"\n[ \t]*\n", markdown.replace("\r\n", "\n").replace("\r", "\n").strip())
    rendered = [
        Markup("<p>{}</p>").format(_inline(" ".join(line.strip() for line in paragraph.split("\n"))))
        for paragraph in paragraphs
        if paragraph.strip()
    ]
    return Markup("\n").join(rendered)


def consent_html(collect: str, consent: Path | None) -> Markup:
    """The notice the page shows before the camera starts: the consent file, or the default naming what is sent."""
    host = host_name(collect) or collect
    markdown = consent_markdown(consent) if consent is not None else DEFAULT_CONSENT.format(host=host)
    return render_consent(markdown)


def collect_settings(collect: str | None, study: str | None) -> dict[str, Any] | None:
    """The page settings of collection (None: nothing leaves the device)."""
    if collect is None:
        return None
    url = canonical_target(collect)
    return {
        "url": url,
        "origin": origin_of(url),
        "study": study,
        "batch": {"format": BATCH_FORMAT, "version": BATCH_VERSION, "maxBytes": MAX_BODY_BYTES, "maxPages": MAX_PAGES, **BATCH_SETTINGS},
        "retry": RETRY_SETTINGS,
        "queue": QUEUE_SETTINGS,
    }
