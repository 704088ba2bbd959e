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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from gazesite.bounded import InputError, read_json_object, require_regular_file, resolve_path, size_text
from gazesite.report.model import VIEWPORT_PAGE, PageInfo, ReportError, Session
from gazesite.samples.schema import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_PX, is_text
from gazesite.staging import BUILD_MANIFEST

log = logging.getLogger(__name__)

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
#: Largest PNG the report draws, in px: pages are scaled down to fit.
OUTPUT_MAX_WIDTH = 1200
OUTPUT_MAX_HEIGHT = 8000
#: Most pages one session's samples may name (a site visit touches far fewer): each page costs every later stage.
MAX_PAGES_PER_SESSION = 100
#: Most pages one report draws (a heatmap and gaze plots each, up to ~0.5 s); the rest are listed, not drawn.
MAX_REPORT_PAGES = 60
#: Most page records read from a build's build.json (a local site captures at most 200 pages at 4 widths).
MAX_RECORDED_PAGES = 4000
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


def collect_pages(sessions: list[Session], pages_dir: Path | None) -> tuple[list[ReportPage], list[str]]:
    """Return the pages the report draws, most looked-at first, and the ids of those it leaves undrawn.

    Pages are ranked by how many participants looked at them, then by samples: one session's junk pages cannot
    push out the pages a study is about. At most MAX_REPORT_PAGES are drawn.

    A page's size and image come from the build's record (``--pages DIST``: build.json's ``study.pages``) when it has
    one: sessions are hostile and only claim sizes and images. Without a record (an older build, or no --pages) the
    commonest size the sessions declare is used, and a declared image only inside --pages.
    """
    recorded = read_build_pages(pages_dir) if pages_dir is not None else None
    visitors: Counter[str] = Counter()  # in order of first appearance, which breaks ties
    samples: Counter[str] = Counter()
    for session in sessions:
        ids, first, counts = np.unique(session.samples.page.astype(str), return_index=True, return_counts=True)
        order = np.argsort(first)
        visitors.update(ids[order].tolist())
        samples.update(dict(zip(ids.tolist(), counts.tolist(), strict=True)))
    appearance = {page: index for index, page in enumerate(visitors)}
    ranked = sorted(visitors, key=lambda page: (-visitors[page], -samples[page], appearance[page]))
    drawn, rest = ranked[:MAX_REPORT_PAGES], ranked[MAX_REPORT_PAGES:]
    if rest:
        log.warning("%d page(s) looked at least are not drawn (a report draws at most %d)", len(rest), MAX_REPORT_PAGES)
    pages = [_page(sessions, page_id, recorded, pages_dir, f"page-{number}") for number, page_id in enumerate(drawn, start=1)]
    return pages, rest


def on_pages(session: Session) -> Session:
    """A session without the samples that name no page, and at most MAX_PAGES_PER_SESSION pages (those most looked at)."""
    session = drop_pageless(session)
    ids, counts = np.unique(session.samples.page.astype(str), return_counts=True)
    if len(ids) <= MAX_PAGES_PER_SESSION:
        return session
    kept = ids[np.argsort(-counts, kind="stable")[:MAX_PAGES_PER_SESSION]]
    keep = np.isin(session.samples.page.astype(str), kept)
    log.warning(
        "%s: its samples name %d pages; the %d with the most samples are kept, %d samples on the rest are left out",
        session.participant,
        len(ids),
        MAX_PAGES_PER_SESSION,
        int((~keep).sum()),
    )
    return replace(session, samples=session.samples.take(keep))


def _page(
    sessions: list[Session], page_id: str, recorded: dict[str, list[PageInfo]] | None, pages_dir: Path | None, slug: str
) -> ReportPage:
    """One report page: the build's capture nearest the width seen, else what the sessions declare or show."""
    captures = _recorded_for(recorded, page_id) if recorded is not None else []
    if captures:
        chosen = _nearest_width(captures, _seen_width(sessions, page_id))
        return ReportPage(page_id, chosen.width, chosen.height, _image_path(chosen, pages_dir), slug)
    info = _commonest([session.pages[page_id] for session in sessions if page_id in session.pages])
    width, height = (info.width, info.height) if info else _measured_size(sessions, page_id)
    # A build that records its pages has named every image it made: a session's own claim is not drawn.
    image = _claimed_image(info, pages_dir) if info and info.image and recorded is None else None
    return ReportPage(page_id, width, height, image, slug)


def read_build_pages(pages_dir: Path) -> dict[str, list[PageInfo]] | None:
    """The pages a build recorded (build.json ``study.pages``), by id; None when the folder holds no such record."""
    manifest = pages_dir / BUILD_MANIFEST
    if not manifest.exists():
        return None
    try:
        record = read_json_object(manifest)
    except InputError as exc:
        raise ReportError(f"--pages {pages_dir}: {BUILD_MANIFEST} {exc}") from None
    study = record.get("study")
    entries = study.get("pages") if isinstance(study, dict) else None
    if not isinstance(entries, list):
        log.info("--pages %s: its %s records no pages (an older build): page sizes come from the sessions", pages_dir, BUILD_MANIFEST)
        return None
    pages: dict[str, list[PageInfo]] = {}
    for index, entry in enumerate(entries[:MAX_RECORDED_PAGES]):
        fields = entry if isinstance(entry, dict) else {}
        page_id, width, height, image = (fields.get(key) for key in ("id", "width", "height", "image"))
        if not (is_text(page_id) and _size(width) and _size(height) and (image is None or is_text(image))):
            raise ReportError(f"--pages {pages_dir}: {BUILD_MANIFEST} study.pages[{index}]: expected {{id, width, height, image}}")
        pages.setdefault(str(page_id), []).append(PageInfo(str(page_id), float(width or 0), float(height or 0), image))
    return pages


def _size(value: object) -> bool:
    """A page width or height as a build records it: a number from 1 to MAX_PX."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value <= MAX_PX


def _recorded_for(recorded: dict[str, list[PageInfo]], page_id: str) -> list[PageInfo]:
    """The build's captures of a page id: the id itself, else its path without the query, else a folder's index.html."""
    path = page_id.split("?", 1)[0].split("#", 1)[0]
    for candidate in (page_id, path, f"{path}index.html" if path.endswith("/") else None):
        if candidate is not None and candidate in recorded:
            return recorded[candidate]
    return []


def _seen_width(sessions: list[Session], page_id: str) -> float | None:
    """The width participants saw a page at: the median declared document width, else the median viewport width."""
    declared = [session.pages[page_id].width for session in sessions if page_id in session.pages]  # read.py: >= 1
    if declared:
        return float(np.median(declared))
    widths = [session.samples.viewport[session.samples.page == page_id, 0] for session in sessions]
    seen = np.concatenate(widths) if widths else np.empty(0)
    return float(np.median(seen)) if len(seen) else None


def _nearest_width(captures: list[PageInfo], width: float | None) -> PageInfo:
    """The capture whose width is nearest the width seen (the narrowest when nothing was seen)."""
    if width is None:
        return min(captures, key=lambda info: info.width)
    return min(captures, key=lambda info: (abs(info.width - width), info.width))


def _commonest(declared: list[PageInfo]) -> PageInfo | None:
    """The page facts most sessions declare (one poster cannot replace what the others agree on); ties: the first."""
    if not declared:
        return None
    counts = Counter((info.width, info.height, info.image) for info in declared)
    best = max(counts.values())
    return next(info for info in declared if counts[(info.width, info.height, info.image)] == best)


def drop_pageless(session: Session) -> Session:
    """A document session without the samples that name no page (navigating, or the frame left the site): they lie on no page."""
    if session.mode == "frame":
        return session
    on_page = session.samples.page != VIEWPORT_PAGE
    if on_page.all():
        return session
    log.info("%s: %d sample(s) on no page (between pages, or off the site) are left out", session.participant, int((~on_page).sum()))
    return replace(session, samples=session.samples.take(on_page))


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
    try:
        root = resolve_path(pages_dir)
        path = resolve_path(root / Path(*relative.parts))
    except InputError as exc:
        raise ReportError(f"{where} {exc}") from None
    if not path.is_relative_to(root):
        raise ReportError(f"{where}: leads out of --pages {pages_dir} (a symbolic link?)")
    if not path.exists():
        raise ReportError(f"{where}: not found in --pages {pages_dir}; give the folder of the build that recorded it")
    return path


def load_canvas(page: ReportPage) -> Image.Image:
    """Return the page's image scaled to the report size, or a blank page of that size."""
    if page.image is None:
        return Image.new("RGB", page.size, BLANK_PAGE)
    with _open_image(page.image, f"page {page.id!r}: image {page.image}") as image:
        image.draft("RGB", page.size)  # JPEG decodes at a reduced size when it can
        return image.convert("RGB").resize(page.size, Image.Resampling.LANCZOS)


@contextmanager
def _open_image(path: Path, where: str) -> Iterator[Image.Image]:
    """Open a page image within the bounds (a regular file, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS); ReportError says why not."""
    try:
        if require_regular_file(path).st_size > MAX_IMAGE_BYTES:
            raise ReportError(f"{where}: larger than {size_text(MAX_IMAGE_BYTES)}")
        with warnings.catch_warnings():  # Pillow warns of large images; the limit below is ours
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=IMAGE_FORMATS)
        with image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ReportError(f"{where}: {image.width} x {image.height} px, more than {MAX_IMAGE_PIXELS:,} pixels")
            yield image
    except InputError as exc:
        raise ReportError(f"{where}: {exc}") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ReportError(f"{where}: not a readable {'/'.join(IMAGE_FORMATS)} image ({exc})") from None


def _claimed_image(info: PageInfo, pages_dir: Path | None) -> Path | None:
    """The image a session claims for a page, if it is a usable one inside --pages; otherwise None, with a warning.

    A claim comes from a participant's page (anyone can post to a collect server): a bad one must not stop the
    report, so the page is drawn blank instead.
    """
    try:
        path = _image_path(info, pages_dir)
        if path is not None:
            with _open_image(path, f"page {info.id!r}: image {info.image!r}"):
                pass
        return path
    except ReportError as exc:
        log.warning("%s; the page is drawn blank", exc.message)
        return None
