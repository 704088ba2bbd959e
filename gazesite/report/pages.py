"""The pages a report draws on: their size in document px, and the snapshot image behind them when there is one.

A page's image path comes from a hostile sample document, so it is only ever
looked up inside ``--pages DIR`` (the built site): relative, no ``..``, not
through a symbolic link that leads out of DIR, a regular PNG, JPEG or WebP
file of bounded size and pixel count.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from gazesite.bounded import MIB, InputError, require_regular_file, size_text
from gazesite.report.model import VIEWPORT_PAGE, PageInfo, ReportError, Session

log = logging.getLogger(__name__)

#: Largest page image read from --pages, in bytes and in pixels (a 1920 x 15 000 snapshot is 29 megapixels).
MAX_IMAGE_BYTES = 64 * MIB
MAX_IMAGE_PIXELS = 60_000_000
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
#: Largest PNG the report draws, in px: pages are scaled down to fit.
OUTPUT_MAX_WIDTH = 1200
OUTPUT_MAX_HEIGHT = 8000
#: Colour of a page without an image.
BLANK_PAGE = (250, 250, 250)


@dataclass(frozen=True)
class ReportPage:
    """A page of the report: its id, size (document px), image file (if any) and the file-name stem of its PNGs."""

    id: str
    width: float
    height: float
    image: Path | None
    slug: str

    @property
    def scale(self) -> float:
        """Output px per document px, so the PNG fits OUTPUT_MAX_WIDTH x OUTPUT_MAX_HEIGHT."""
        return min(1.0, OUTPUT_MAX_WIDTH / self.width, OUTPUT_MAX_HEIGHT / self.height)

    @property
    def size(self) -> tuple[int, int]:
        """The PNG's size in px."""
        return max(1, round(self.width * self.scale)), max(1, round(self.height * self.scale))


def collect_pages(sessions: list[Session], pages_dir: Path | None) -> list[ReportPage]:
    """Return every page the sessions looked at, in order of first appearance."""
    order: dict[str, None] = {}
    for session in sessions:
        order.update(dict.fromkeys(str(page) for page in dict.fromkeys(session.samples.page)))
    pages = []
    for number, page_id in enumerate(order, start=1):
        declared = [session.pages[page_id] for session in sessions if page_id in session.pages]
        info = next((entry for entry in declared if entry.image), declared[0] if declared else None)
        width, height = (info.width, info.height) if info else _measured_size(sessions, page_id)
        image = _image_path(info, pages_dir) if info and info.image else None
        pages.append(ReportPage(page_id, width, height, image, f"page-{number}"))
    return pages


def _measured_size(sessions: list[Session], page_id: str) -> tuple[float, float]:
    """Size of a page no document declares: the commonest viewport, grown to hold every point on the page."""
    viewports: Counter[tuple[float, float]] = Counter()
    extent = np.zeros(2)
    for session in sessions:
        on_page = session.samples.page == page_id
        if not on_page.any():
            continue
        viewports.update(map(tuple, session.samples.viewport[on_page].tolist()))
        placed = session.samples.placed()[on_page]
        placed = placed[np.isfinite(placed).all(axis=1)]
        if len(placed):
            extent = np.maximum(extent, placed.max(axis=0))
    width, height = viewports.most_common(1)[0][0] if viewports else (1.0, 1.0)
    if page_id == VIEWPORT_PAGE:
        return max(width, 1.0), max(height, 1.0)
    return max(width, float(extent[0]), 1.0), max(height, float(extent[1]), 1.0)


def _image_path(info: PageInfo, pages_dir: Path | None) -> Path | None:
    """Resolve a page's image inside --pages DIR, or None (with a note) when no DIR was given."""
    if pages_dir is None:
        log.info("page %s has an image (%s): pass --pages DIR (the built site) to draw on it", info.id, info.image)
        return None
    where = f"page {info.id!r}: image {info.image!r}"
    relative = PurePosixPath(str(info.image))
    if relative.is_absolute() or ".." in relative.parts or "\\" in str(info.image) or not relative.parts:
        raise ReportError(f"{where}: expected a path relative to the built site, without '..'")
    root = pages_dir.resolve()
    path = (root / Path(*relative.parts)).resolve()
    if not path.is_relative_to(root):
        raise ReportError(f"{where}: leads out of --pages {pages_dir} (a symbolic link?)")
    if not path.exists():
        raise ReportError(f"{where}: not found in --pages {pages_dir}; give the folder of the build that recorded it")
    return path


def load_canvas(page: ReportPage) -> Image.Image:
    """Return the page's image scaled to the report size, or a blank page of that size."""
    if page.image is None:
        return Image.new("RGB", page.size, BLANK_PAGE)
    where = f"page {page.id!r}: image {page.image}"
    try:
        if require_regular_file(page.image).st_size > MAX_IMAGE_BYTES:
            raise ReportError(f"{where}: larger than {size_text(MAX_IMAGE_BYTES)}")
        with warnings.catch_warnings():  # Pillow warns of large images; the limit below is ours
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(page.image, formats=IMAGE_FORMATS)
        with image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ReportError(f"{where}: {image.width} x {image.height} px, more than {MAX_IMAGE_PIXELS:,} pixels")
            image.draft("RGB", page.size)  # JPEG decodes at a reduced size when it can
            return image.convert("RGB").resize(page.size, Image.Resampling.LANCZOS)
    except InputError as exc:
        raise ReportError(f"{where}: {exc}") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ReportError(f"{where}: not a readable {'/'.join(IMAGE_FORMATS)} image ({exc})") from None
