"""Capture pages with build-time Chromium: a full-page picture per (URL, width), bounded in time and in where it connects.

The page being captured is hostile: it may override ``setTimeout``, loop
forever, redirect or frame private addresses. So every step has a timeout,
every job a deadline (a job past it is abandoned and its browser replaced),
and every connection goes through the fence (``gazesite.study.egress``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from gazesite.errors import GazesiteError
from gazesite.samples.schema import MAX_SNAPSHOT_HEIGHT
from gazesite.study.egress import Fence, fenced_proxy
from gazesite.study.images import TILE_HEIGHT, Picture, to_bgr

log = logging.getLogger(__name__)

#: The viewport height while capturing: what `100vh` means in the captured page.
CAPTURE_VIEWPORT_HEIGHT = 900
#: Bounds of one capture: loading the page, scrolling it to wake lazy content, waiting for that content, each screenshot.
NAVIGATION_TIMEOUT_MS = 30_000
SCROLL_BUDGET_MS = 20_000
SCROLL_PAUSE_MS = 150
SETTLE_TIMEOUT_MS = 5_000
SCREENSHOT_TIMEOUT_MS = 30_000
#: Any one script evaluation in the page (a page that overrides setTimeout or busy-loops never answers).
EVALUATE_TIMEOUT_S = SCROLL_BUDGET_MS / 1000 + 10
#: One (URL, width) in all: navigation, scrolling, settling and every screenshot strip of the tallest page.
JOB_DEADLINE_S = 120.0
#: Closing a context or a browser whose page misbehaves.
CLOSE_TIMEOUT_S = 10.0

# Scrolls down one screen at a time (lazy images and infinite lists load as they come into view), never past the height
# limit or the time budget, then back to the top; resolves with the document's height.
HEIGHT_JS = "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
_SCROLL_THROUGH = """async ([limit, pauseMs, budgetMs]) => {
  const height = () => HEIGHT;
  const began = performance.now();
  for (let y = 0; y < Math.min(height(), limit) && performance.now() - began < budgetMs; y += innerHeight) {
    window.scrollTo(0, y);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  window.scrollTo(0, 0);
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  return height();
}""".replace("HEIGHT", HEIGHT_JS)


@dataclass(frozen=True)
class Capture:
    """One width of a target: the picture, how long capturing took, and where the browser ended up."""

    picture: Picture
    seconds: float
    final_url: str


def capture_many(jobs: list[tuple[str, int]], what: str, fence: Fence) -> list[Capture | str]:
    """Capture each (url, width); a job that fails gives its one-line reason instead of a Capture."""
    # In a thread of its own with its own event loop: the caller may run one already (a notebook, a test session).
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gazesite-capture") as pool:
        return pool.submit(asyncio.run, _capture_all(jobs, what, fence)).result()


async def _capture_all(jobs: list[tuple[str, int]], what: str, fence: Fence) -> list[Capture | str]:
    """capture_many's work: one browser (replaced after a job that overran), a fresh context for each job."""
    try:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright
    except ImportError:
        raise GazesiteError(
            "capturing pages needs Playwright: pip install playwright (Chromium itself comes from /usr/bin/chromium)"
        ) from None
    captures: list[Capture | str] = []
    async with fenced_proxy(fence) as proxy, async_playwright() as playwright:
        # Every connection through the fence, loopback included ("<-loopback>" removes Chromium's own bypass).
        fenced = (f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>")
        chromium = None
        try:
            for url, width in jobs:
                if chromium is None:
                    chromium = await _launch(playwright, fenced, what)
                try:
                    captures.append(await asyncio.wait_for(_capture_width(chromium, url, width), JOB_DEADLINE_S))
                except TimeoutError:  # a script that never returned, or the whole job past its deadline
                    bounds = f"each script {EVALUATE_TIMEOUT_S:g} s, the whole capture {JOB_DEADLINE_S:g} s"
                    captures.append(f"the page did not answer in time at width {width} ({bounds})")
                    await _close(chromium)  # its renderer may still be spinning: start afresh
                    chromium = None
                except PlaywrightError as exc:
                    captures.append(_first_line(exc))
        finally:
            if chromium is not None:
                await _close(chromium)
    return captures


async def _launch(playwright: Any, args: tuple[str, ...], what: str) -> Any:
    """Start Chromium with its sandbox where it can have one; without it (and say so) where it cannot."""
    from playwright.async_api import Error as PlaywrightError

    from gazesite import chromium as browser

    if os.geteuid() == 0:
        log.info("capturing without Chromium's sandbox: Chromium refuses one to root")
    else:
        try:
            return await playwright.chromium.launch(**browser.launch_options(*args, sandbox=True))
        except PlaywrightError as exc:
            log.warning("Chromium's sandbox is not available here (%s); capturing without it", _first_line(exc))
    try:
        return await playwright.chromium.launch(**browser.launch_options(*args))
    except PlaywrightError as exc:
        raise GazesiteError(f"{what}: Chromium could not start ({_first_line(exc)})") from None


async def _capture_width(chromium: Any, url: str, width: int) -> Capture:
    """Capture one width in a fresh browser context (no shared cookies or storage between widths)."""
    import cv2
    import numpy as np

    began = time.monotonic()
    context = await chromium.new_context(
        viewport={"width": width, "height": CAPTURE_VIEWPORT_HEIGHT},
        device_scale_factor=1,
        service_workers="block",
        accept_downloads=False,
    )
    try:
        page = await context.new_page()
        response = await page.goto(url, wait_until="load", timeout=NAVIGATION_TIMEOUT_MS)
        if response is not None and response.status >= 400:
            log.warning("%s answered %d at width %d; capturing what it shows", url, response.status, width)
        try:  # a page may stop timers or loop: scrolling is a courtesy for lazy content, not a requirement
            await _evaluate(page, _SCROLL_THROUGH, [MAX_SNAPSHOT_HEIGHT, SCROLL_PAUSE_MS, SCROLL_BUDGET_MS])
        except TimeoutError:
            log.warning("%s did not finish scrolling within %g s at width %d; capturing it as it is", url, EVALUATE_TIMEOUT_S, width)
        try:  # lazy content the scrolling asked for
            await page.wait_for_load_state("networkidle", timeout=SETTLE_TIMEOUT_MS)
        except Exception:
            log.info("%s kept loading after %d ms at width %d; capturing it as it is", url, SETTLE_TIMEOUT_MS, width)
        full_height = max(1, int(await _evaluate(page, HEIGHT_JS)))
        height = min(full_height, MAX_SNAPSHOT_HEIGHT)
        # Strip by strip: one bounded screenshot at a time, never one surface of the whole page.
        pixels = np.empty((height, width, 3), np.uint8)
        for top in range(0, height, TILE_HEIGHT):
            strip = min(TILE_HEIGHT, height - top)
            png = await page.screenshot(
                clip={"x": 0, "y": top, "width": width, "height": strip},
                full_page=True,
                animations="disabled",
                caret="hide",
                timeout=SCREENSHOT_TIMEOUT_MS,
            )
            decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
            if decoded is None or decoded.shape[:2] != (strip, width):
                raise GazesiteError(f"--target {url}: Chromium returned a damaged screenshot at width {width}")
            pixels[top : top + strip] = to_bgr(decoded)
        final_url = page.url
    finally:
        await _close(context)
    return Capture(Picture(pixels, full_height), time.monotonic() - began, final_url)


async def _evaluate(page: Any, script: str, argument: Any = None) -> Any:
    """page.evaluate with a timeout (Playwright's has none): TimeoutError past EVALUATE_TIMEOUT_S."""
    return await asyncio.wait_for(page.evaluate(script, argument), EVALUATE_TIMEOUT_S)


async def _close(closable: Any) -> None:
    """Close a context or browser, bounded in time; a failure to close is logged, not raised."""
    try:
        await asyncio.wait_for(closable.close(), CLOSE_TIMEOUT_S)
    except Exception as exc:  # the capture's result does not depend on a clean close
        log.debug("closing %s: %s", type(closable).__name__, exc)


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
