"""Snapshot mode: capture a URL with Chromium at build time, or take an image, and lay it out as site files.

The page shows the captured document as an ordinary scrollable page, so
gaze maps to the captured page's own px, and at run time nothing but the
page's own origin is contacted. Captures are cut into tiles the page loads
lazily (a 15,000 px page is 8 tiles of 2048 px; the browser decodes only
those near the view); one full image per width is kept beside them for
reports (samples v2 ``pages[].image``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazesite.errors import GazesiteError
from gazesite.study.images import (
    MAX_SNAPSHOT_HEIGHT,
    MAX_SNAPSHOT_WIDTH,
    MIN_SNAPSHOT_WIDTH,
    TILE_HEIGHT,
    Picture,
    describe_bytes,
    encode_webp,
    tiles,
    to_bgr,
)

log = logging.getLogger(__name__)

#: Widths captured when --widths is not given: a laptop and a desktop screen.
DEFAULT_WIDTHS = (1280, 1920)
MAX_WIDTHS = 4
#: The viewport height while capturing: what `100vh` means in the captured page.
CAPTURE_VIEWPORT_HEIGHT = 900
#: Bounds of one capture: loading the page, scrolling it to wake lazy content, waiting for that content, each screenshot.
NAVIGATION_TIMEOUT_MS = 30_000
SCROLL_BUDGET_MS = 20_000
SCROLL_PAUSE_MS = 150
SETTLE_TIMEOUT_MS = 5_000
SCREENSHOT_TIMEOUT_MS = 30_000
#: Where the snapshot files go in dist/.
SNAPSHOT_DIR = "snapshot"

# Scrolls down one screen at a time (lazy images and infinite lists load as they come into view), never past the height
# limit or the time budget, then back to the top; resolves with the document's height.
_HEIGHT = "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
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
}""".replace("HEIGHT", _HEIGHT)


@dataclass(frozen=True)
class Capture:
    """One width of a target: the picture, how long capturing took, and where the browser ended up."""

    picture: Picture
    seconds: float
    final_url: str


@dataclass
class SnapshotSite:
    """The snapshot files for dist/, the pages the page settings list, and what build.json records."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    report: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def widths_problem(widths: tuple[int, ...]) -> str | None:
    """Why a --widths value cannot be captured, or None."""
    if not widths or len(widths) > MAX_WIDTHS:
        return f"expected 1 to {MAX_WIDTHS} widths, as in 1280,1920"
    if len(set(widths)) != len(widths):
        return "names a width twice"
    bad = [w for w in widths if not MIN_SNAPSHOT_WIDTH <= w <= MAX_SNAPSHOT_WIDTH]
    if bad:
        return f"{bad[0]} px is outside {MIN_SNAPSHOT_WIDTH} to {MAX_SNAPSHOT_WIDTH} px"
    return None


def parse_widths(text: str) -> tuple[int, ...] | None:
    """Parse "1280,1920" into widths; None if it is not a comma-separated list of integers."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        return None


def capture_url(url: str, widths: tuple[int, ...]) -> list[Capture]:
    """Load ``url`` in Chromium at each width, scroll it through, and capture the full page (up to the height limit)."""
    # In a thread of its own: Playwright's sync API refuses a thread that runs an asyncio loop (a notebook, a test session).
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="gazesite-snapshot") as pool:
        return pool.submit(_capture_all, url, widths).result()


def _capture_all(url: str, widths: tuple[int, ...]) -> list[Capture]:
    """capture_url's work, in one browser for all widths."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise GazesiteError("--snapshot needs Playwright: pip install playwright (Chromium itself comes from /usr/bin/chromium)") from None
    from gazesite import chromium as browser

    captures = []
    try:
        with sync_playwright() as playwright:
            chromium = browser.launch(playwright)
            try:
                for width in sorted(widths):
                    captures.append(_capture_width(chromium, url, width))
            finally:
                chromium.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GazesiteError(f"--target {url}: the snapshot failed ({first})") from None
    return captures


def _capture_width(chromium: Any, url: str, width: int) -> Capture:
    """Capture one width in a fresh browser context (no shared cookies or storage between widths)."""
    import cv2
    import numpy as np

    began = time.monotonic()
    context = chromium.new_context(
        viewport={"width": width, "height": CAPTURE_VIEWPORT_HEIGHT},
        device_scale_factor=1,
        service_workers="block",
        accept_downloads=False,
    )
    try:
        page = context.new_page()
        response = page.goto(url, wait_until="load", timeout=NAVIGATION_TIMEOUT_MS)
        if response is not None and response.status >= 400:
            log.warning("%s answered %d at width %d; capturing what it shows", url, response.status, width)
        page.evaluate(_SCROLL_THROUGH, [MAX_SNAPSHOT_HEIGHT, SCROLL_PAUSE_MS, SCROLL_BUDGET_MS])
        try:  # lazy content the scrolling asked for
            page.wait_for_load_state("networkidle", timeout=SETTLE_TIMEOUT_MS)
        except Exception:
            log.info("%s kept loading after %d ms at width %d; capturing it as it is", url, SETTLE_TIMEOUT_MS, width)
        full_height = max(1, int(page.evaluate(_HEIGHT)))
        height = min(full_height, MAX_SNAPSHOT_HEIGHT)
        # Strip by strip: one bounded screenshot at a time, never one surface of the whole page.
        pixels = np.empty((height, width, 3), np.uint8)
        for top in range(0, height, TILE_HEIGHT):
            strip = min(TILE_HEIGHT, height - top)
            png = page.screenshot(
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
        context.close()
    return Capture(Picture(pixels, full_height), time.monotonic() - began, final_url)


def snapshot_site(pictures: list[Picture], label: str) -> SnapshotSite:
    """Turn snapshots into tiles and full images under dist/snapshot/<width>/, and say what was kept."""
    site = SnapshotSite()
    for picture in sorted(pictures, key=lambda p: p.width):
        folder = f"{SNAPSHOT_DIR}/{picture.width}"
        page_id = f"snapshot-{picture.width}"
        parts = []
        total = 0
        for index, (top, data) in enumerate(tiles(picture)):
            name = f"{folder}/tile-{index:02d}.webp"
            site.blobs[name] = data
            total += len(data)
            parts.append({"src": name, "top": top, "height": min(TILE_HEIGHT, picture.height - top)})
        image = f"{folder}/page.webp"
        site.blobs[image] = encode_webp(picture.pixels)
        site.pages.append({"id": page_id, "width": picture.width, "height": picture.height, "image": image, "tiles": parts})
        site.report.append(
            {
                "id": page_id,
                "width": picture.width,
                "height": picture.height,
                "full_height": picture.full_height,
                "cropped": picture.cropped,
                "tiles": len(parts),
                "tile_bytes": total,
                "image_bytes": len(site.blobs[image]),
            }
        )
        if picture.cropped:
            warning = (
                f"{label} at width {picture.width} is {picture.full_height} px tall: the snapshot keeps the top "
                f"{MAX_SNAPSHOT_HEIGHT} px (the height limit) and the rest is cut off"
            )
            site.warnings.append(warning)
            log.warning("%s", warning)
        log.info(
            "snapshot %s: %dx%d px, %d tiles, %s in tiles + %s full image",
            page_id,
            picture.width,
            picture.height,
            len(parts),
            describe_bytes(total),
            describe_bytes(len(site.blobs[image])),
        )
    return site


def image_label(path: Path) -> str:
    """What the page and build.json call an image target: its file name only (a full path would publish the builder's folders)."""
    return path.name
