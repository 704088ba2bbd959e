"""What ``--target`` names (an http(s) URL, a local site folder, an image file) and the study part of a build."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazesite.bounded import InputError
from gazesite.collect.protocol import STUDY_PATTERN
from gazesite.errors import GazesiteError
from gazesite.samples.schema import MAX_SNAPSHOT_HEIGHT
from gazesite.study.egress import Fence
from gazesite.study.images import IMAGE_SUFFIXES, describe_bytes, read_image
from gazesite.study.local_site import SITE_DIR, START_PAGE, folder_label, gather_site, site_problem
from gazesite.study.page_images import PageImages, capture_site_pages
from gazesite.study.snapshot import DEFAULT_WIDTHS, capture_url, image_label, snapshot_site, widths_problem
from gazesite.urls import has_scheme

log = logging.getLogger(__name__)

#: A --study name: it travels in every sample export and in collected sessions (one pattern for both).
STUDY_NAME = STUDY_PATTERN


def target_kind(target: str) -> str:
    """ "url" for anything with a scheme (validated as a URL later), "folder" or "image" for an existing local path, else "url"."""
    if not target or has_scheme(target) or "://" in target:
        return "url"
    path = Path(target)
    if path.is_dir() or (path.is_symlink() and not path.exists()):  # a broken or looping link: site_problem names it
        return "folder"
    if path.exists() or path.suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    return "url"


def study_problems(target: str, snapshot: bool, widths: tuple[int, ...] | None, study: str | None, out: Path) -> list[str]:
    """Problems of the study options (--snapshot, --widths, --study) and of a local --target; URL targets are checked by BuildConfig."""
    problems = []
    kind = target_kind(target)
    if widths is not None and (problem := widths_problem(widths)):
        problems.append(f"--widths {','.join(map(str, widths))}: {problem}")
    if widths is not None and not snapshot and kind == "url":
        problems.append("--widths sets the snapshot widths: give --snapshot as well")
    if kind == "folder" and snapshot:
        problems.append(f"--snapshot captures a URL; --target {target} is a folder (framed from the page's own origin): leave it out")
    if kind == "image" and (snapshot or widths is not None):
        problems.append(f"--snapshot and --widths capture a URL; --target {target} is an image (shown at its own width): leave them out")
    if study is not None and not STUDY_NAME.fullmatch(study):
        problems.append(f"--study {study!r}: expected 1 to 64 letters, digits, '_' or '-'")
    if kind == "folder" and (problem := site_problem(Path(target), out)):
        problems.append(f"--target {target}: {problem}" if not problem.startswith("--") else problem)
    if kind == "image" and not Path(target).is_file():
        problems.append(f"--target {target}: no such image file (expected an http(s) URL, a site folder or a PNG/JPEG/WebP file)")
    elif kind == "image" and Path(target).suffix.lower() not in IMAGE_SUFFIXES:
        problems.append(f"--target {target}: expected an http(s) URL, a site folder or a PNG/JPEG/WebP image ({', '.join(IMAGE_SUFFIXES)})")
    return problems


def mode_of(target: str, snapshot: bool) -> str:
    """The page's mode for a target: "frame", "snapshot" or "same-origin"."""
    kind = target_kind(target)
    if kind == "folder":
        return "same-origin"
    return "snapshot" if snapshot or kind == "image" else "frame"


@dataclass
class StudySite:
    """The study part of a build: extra files, the iframe (if any), page settings and build.json's record."""

    mode: str
    label: str  # what the page calls the target
    frame_src: str | None  # the iframe's src; None in snapshot mode (no frame)
    blobs: dict[str, bytes] = field(default_factory=dict)
    copies: dict[str, Path] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaptureSettings:
    """How build-time Chromium captures: the widths, whether a site's pages are captured, where it may connect."""

    widths: tuple[int, ...] | None = None  # None: DEFAULT_WIDTHS
    page_images: bool = True  # a site folder's pages, for reports
    allow_private: bool = False  # private, loopback and link-local addresses (the fence refuses them otherwise)


def gather_study(target: str, snapshot: bool, study: str | None, capture: CaptureSettings) -> StudySite:
    """Capture, read or copy what the page will show for ``target``; ``target`` is a canonical URL or a local path.

    A local site's pages are also captured at each width (unless ``capture.page_images`` is off), for reports.
    """
    widths = capture.widths
    mode = mode_of(target, snapshot)
    settings: dict[str, Any] = {"mode": mode, "name": study}
    if mode == "frame":
        return StudySite(mode, target, target, settings=settings, report={"mode": mode, "study": study})
    if mode == "same-origin":
        folder = Path(target)
        copies = gather_site(folder)
        settings["site"] = {"base": f"{SITE_DIR}/", "start": f"{SITE_DIR}/{START_PAGE}"}
        label = folder_label(folder)
        report: dict[str, Any] = {"mode": mode, "study": study, "site_files": len(copies)}
        images = capture_site_pages(copies, widths or DEFAULT_WIDTHS, label, capture.allow_private) if capture.page_images else PageImages()
        report.update(pages=images.pages, warnings=images.warnings)
        return StudySite(mode, label, f"{SITE_DIR}/{START_PAGE}", blobs=images.blobs, copies=copies, settings=settings, report=report)
    if target_kind(target) == "image":
        path = Path(target)
        try:
            pictures = [read_image(path)]
        except InputError as exc:
            raise GazesiteError(
                f"--target {target} {exc}: expected a PNG, JPEG or WebP image (height beyond {MAX_SNAPSHOT_HEIGHT} px is cut off)"
            ) from None
        label, final_url = image_label(path), None
    else:
        captures = capture_url(target, widths or DEFAULT_WIDTHS, Fence(allow_private=capture.allow_private))
        for done in captures:
            log.info("captured %s at width %d in %.1f s", target, done.picture.width, done.seconds)
        pictures = [done.picture for done in captures]
        label, final_url = target, captures[-1].final_url
    site = snapshot_site(pictures, label)
    settings["pages"] = site.pages
    # The pages' facts as reports read them (study.pages), beside the capture's own figures.
    pages = [{key: page[key] for key in ("id", "width", "height", "image")} for page in site.pages]
    report = {"mode": mode, "study": study, "snapshots": site.report, "pages": pages, "warnings": site.warnings}
    if final_url is not None:
        report["final_url"] = final_url
    total = sum(len(data) for data in site.blobs.values())
    log.info("snapshot files: %d, %s", len(site.blobs), describe_bytes(total))
    return StudySite(mode, label, None, blobs=site.blobs, settings=settings, report=report)


def refusal_hint(target: str) -> str:
    """The sentence the build adds when the target refuses framing."""
    return f"rebuild with --snapshot to show a capture of it instead (gazesite build --target {target} --snapshot)"
