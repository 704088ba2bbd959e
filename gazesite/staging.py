"""Write a folder completely or not at all.

Every command that writes a folder (train, convert, build) fills a temporary
folder beside the destination and swaps it into place only when everything
succeeded, so a failure leaves the previous output exactly as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gazesite.bounded import InputError, read_json_object
from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)

#: What ``gazesite build`` writes about each build, and ``gazesite convert`` about each conversion.
BUILD_MANIFEST = "build.json"
CONVERSION_REPORT = "conversion.json"


@dataclass(frozen=True)
class OutputKind:
    """A file one command always writes into its output folder, so a rerun recognises that folder."""

    command: str
    marker: str
    keys: tuple[str, ...]  # keys the marker's JSON object always holds


# A model folder's kind (MODEL_OUTPUT) lives in gazesite.model.settings, beside the file name it checks:
# this module, which every stage uses, imports no stage.
BUILD_OUTPUT = OutputKind("gazesite build", BUILD_MANIFEST, ("gazesite", "target", "files"))
CONVERSION_OUTPUT = OutputKind("gazesite convert", CONVERSION_REPORT, ("quantize", "weight_bytes", "shards"))


#: Files version control keeps in an otherwise empty output folder (the checkout's dist/.gitkeep): such a
#: folder counts as empty, and its placeholders are carried into every new output so the checkout stays clean.
PLACEHOLDERS = frozenset({".gitkeep"})


def placeholders(out: Path) -> list[Path]:
    """The placeholder files of ``out``: regular files (never links) named in PLACEHOLDERS."""
    return [out / name for name in sorted(PLACEHOLDERS) if (out / name).is_file() and not (out / name).is_symlink()]


def out_problem(out: Path, kind: OutputKind) -> str | None:
    """Return why ``out`` must not be replaced, or None: it is absent, empty, or an earlier output of ``kind``."""
    out = Path(out)
    if out.is_symlink():  # replacing the link would orphan a folder gazesite did not create
        return f"--out {out}: is a symbolic link: give the folder it points to, or a new one"
    if not out.exists():
        return None
    if not out.is_dir():
        return f"--out {out}: exists and is not a directory"
    try:
        empty = set(out.iterdir()) <= set(placeholders(out))
    except OSError as exc:
        return f"--out {out}: cannot be read ({exc.strerror})"
    if empty or written_by(out, kind):
        return None
    return (
        f"--out {out}: the folder is not empty and holds no {kind.marker} from an earlier '{kind.command}', "
        "so gazesite will not replace it: choose a new or empty folder, or empty this one yourself"
    )


def written_by(out: Path, kind: OutputKind) -> bool:
    """True when ``out`` holds the marker file ``kind``'s command writes."""
    try:
        marker = read_json_object(out / kind.marker)
    except InputError:
        return False
    return all(key in marker for key in kind.keys)


@contextmanager
def staged_directory(out: Path, private: bool = False) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it replaces ``out``, on error it vanishes.

    A ``private`` output (participants' data: a report, an export) is readable by its owner only, as the database is.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        yield staging
        for placeholder in placeholders(out):
            shutil.copyfile(placeholder, staging / placeholder.name)
        if private:
            restrict(staging)
        else:
            os.chmod(staging, 0o755)  # mkdtemp makes it private; readers (static hosts, git) need it open
        swap_into_place(staging, out)
    finally:
        # Only what this run created: after a successful swap the staging folder is gone already.
        shutil.rmtree(staging, ignore_errors=True)


def restrict(folder: Path) -> None:
    """Make a folder and everything in it its owner's only (0700 folders, 0600 files); links are not followed."""
    os.chmod(folder, 0o700)
    for root, folders, files in os.walk(folder):
        for name in (*folders, *files):
            path = Path(root, name)
            if not path.is_symlink():
                os.chmod(path, 0o700 if name in folders else 0o600)


def swap_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` with ``staging``; if that fails, put the previous ``out`` back."""
    old = out.parent / f".{out.name}-old-{os.getpid()}"
    had_previous = out.exists()
    try:
        if had_previous:
            out.rename(old)
        staging.rename(out)
    except OSError as exc:
        kept = restore_previous(old, out) if had_previous and old.exists() and not out.exists() else out
        previous = f"the previous {out} is unchanged" if kept == out else f"the previous {out} is kept at {kept}"
        raise GazesiteError(f"could not move the new {out} into place ({exc.strerror or exc}); {previous}") from None
    if had_previous:
        shutil.rmtree(old, ignore_errors=True)


def restore_previous(old: Path, out: Path) -> Path:
    """Rename the set-aside previous output back and return where it is; never delete it."""
    try:
        old.rename(out)
    except OSError as exc:
        log.debug("moving %s back to %s failed: %s", old, out, exc)
        return old
    return out
