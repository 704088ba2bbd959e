"""Same-origin mode: gather a local static site for dist/site/, refusing anything that leaves its folder.

The folder is untrusted the way a model folder is: only regular files inside
it are published; a symbolic link that leads out of it, to a folder, or to
anything but a regular file is an error naming it; a device, FIFO or socket
is an error; the walk is bounded in files, bytes and depth. Names starting
with "." (.git, .env, .DS_Store) are never published: a static site does not
need them and they often hold secrets.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

from gazesite.bounded import MIB, InputError, resolve_path, size_text
from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)

#: Where the site goes in dist/, and the page the frame opens first.
SITE_DIR = "site"
START_PAGE = "index.html"
#: Bounds of a local site: files, bytes in all, folder depth.
MAX_SITE_FILES = 2000
MAX_SITE_BYTES = 256 * MIB
MAX_SITE_DEPTH = 32
#: A name a URL path carries unchanged (no quoting, no '%', '?', '#', '\\', spaces or control characters).
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+~@=,-]*")


def site_problem(folder: Path, out: Path) -> str | None:
    """Why ``folder`` cannot be published next to the build output ``out``, or None (checked before anything is read)."""
    try:
        root = resolve_path(folder)
    except InputError as exc:
        return str(exc)
    if not root.is_dir():
        return "leads to no folder (a broken symbolic link?): expected a static site folder"
    destination = out.resolve()
    if destination == root or destination.is_relative_to(root):
        return f"--out {out} is inside the site folder {folder}: choose an --out outside it"
    if root.is_relative_to(destination):
        return f"the site folder {folder} is inside --out {out}, which the build replaces: move it out first"
    if not (folder / START_PAGE).is_file():
        return f"{folder} has no {START_PAGE}: expected a static site folder with an {START_PAGE} at its top"
    return None


def gather_site(folder: Path) -> dict[str, Path]:
    """Return {dist path: regular file} for every publishable file of ``folder``; GazesiteError for anything unsafe."""
    root = folder.resolve()
    found: dict[str, Path] = {}
    total = 0
    skipped = 0
    pending = [(root, 0)]
    while pending:
        directory, depth = pending.pop()
        if depth > MAX_SITE_DEPTH:
            raise fail(folder, directory.relative_to(root), f"is nested deeper than {MAX_SITE_DEPTH} folders")
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as exc:
            raise fail(folder, directory.relative_to(root), f"cannot be read ({exc.strerror})") from None
        for entry in entries:
            relative = Path(entry.path).relative_to(root)
            if entry.name.startswith("."):
                skipped += 1
                continue
            if not _SAFE_NAME.fullmatch(entry.name):
                raise fail(folder, relative, "has a name a URL would change: use letters, digits and _ . - + ~ @ = , only")
            source = Path(entry.path)
            if entry.is_symlink():
                source = _link_target(folder, root, relative, source)
            elif entry.is_dir(follow_symlinks=False):
                pending.append((source, depth + 1))
                continue
            elif not entry.is_file(follow_symlinks=False):
                raise fail(folder, relative, "is not a regular file (a device, FIFO or socket)")
            size = source.stat().st_size
            total += size
            if len(found) >= MAX_SITE_FILES:
                raise GazesiteError(f"--target {folder}: holds more than {MAX_SITE_FILES} files: publish a smaller folder")
            if total > MAX_SITE_BYTES:
                raise GazesiteError(f"--target {folder}: holds more than {size_text(MAX_SITE_BYTES)}: publish a smaller folder")
            found[f"{SITE_DIR}/{relative.as_posix()}"] = source
    if skipped:
        log.info("left out %d hidden name(s) (starting with '.') of %s", skipped, folder)
    log.info("the site %s: %d files, %s", folder, len(found), f"{total / 1e6:.2f} MB")
    return dict(sorted(found.items()))


def _link_target(folder: Path, root: Path, relative: Path, link: Path) -> Path:
    """The file a symbolic link inside the site leads to: it must be a regular file inside the folder."""
    try:
        resolved = resolve_path(link)
    except InputError as exc:
        raise fail(folder, relative, str(exc)) from None
    if not resolved.is_relative_to(root):
        raise fail(folder, relative, "is a symbolic link that leads out of the folder: expected files inside it")
    try:
        mode = os.stat(resolved).st_mode
    except OSError:
        raise fail(folder, relative, "is a broken symbolic link") from None
    if not stat.S_ISREG(mode):
        raise fail(folder, relative, "is a symbolic link to something other than a file (links to folders are not followed)")
    return resolved


def fail(folder: Path, relative: Path, problem: str) -> GazesiteError:
    """The one-line error for one entry of the site folder."""
    return GazesiteError(f"--target {folder}: {relative.as_posix() or '.'} {problem}")


def folder_label(folder: Path) -> str:
    """What the page and build.json call a local site: its folder name (a full path would publish the builder's folders)."""
    return f"{folder.resolve().name}/"
