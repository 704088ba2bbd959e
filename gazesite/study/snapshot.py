"""Snapshot mode: capture a URL with Chromium at build time, or take an image, and lay it out as site files.

The page shows the captured document as an ordinary scrollable page, so
gaze maps to the captured page's own px, and at run time nothing but the
page's own origin is contacted. Captures are cut into tiles the page loads
lazily (a 15,000 px page is 8 tiles of 2048 px; the browser decodes only
those near the view); one full image per width is kept beside them for
reports (samples v2 ``pages[].image``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazesite.errors import GazesiteError
from gazesite.samples.schema import MAX_SNAPSHOT_HEIGHT, MAX_SNAPSHOT_WIDTH, MIN_SNAPSHOT_WIDTH
from gazesite.study.capture import Capture, capture_many
from gazesite.study.egress import Fence
from gazesite.study.images import (
    TILE_HEIGHT,
    Picture,
    describe_bytes,
    encode_webp,
    tiles,
)
from gazesite.urls import allowed_origin

log = logging.getLogger(__name__)

#: Widths captured when --widths is not given: a laptop and a desktop screen.
DEFAULT_WIDTHS = (1280, 1920)
MAX_WIDTHS = 4
#: Where the snapshot files go in dist/.
SNAPSHOT_DIR = "snapshot"


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


def capture_url(url: str, widths: tuple[int, ...], fence: Fence) -> list[Capture]:
    """Load ``url`` in Chromium at each width, scroll it through, and capture the full page (up to the height limit)."""
    if refused := fence.check(url):
        raise GazesiteError(f"--target {url}: {refused}")
    captures = capture_many([(url, width) for width in sorted(widths)], what=f"--target {url}", fence=fence)
    failed = next((capture for capture in captures if isinstance(capture, str)), None)
    if failed is not None:  # a redirect the fence stopped fails the navigation: say why
        why = f"; the page led to {next(iter(fence.refused.values()))}" if fence.refused else ""
        raise GazesiteError(f"--target {url}: the snapshot failed ({failed}){why}")
    done = [capture for capture in captures if isinstance(capture, Capture)]
    for capture in done:  # the picture would be the fence's refusal, not the page
        if refused := fence.refused.get(allowed_origin(capture.final_url)):
            raise GazesiteError(f"--target {url}: the page led to {refused}")
    return done


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
