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
from pathlib import Path

from gazesite.errors import GazesiteError

log = logging.getLogger(__name__)


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it replaces ``out``, on error it vanishes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes it private; readers (static hosts, git) need it open
        swap_into_place(staging, out)
    finally:
        # Only what this run created: after a successful swap the staging folder is gone already.
        shutil.rmtree(staging, ignore_errors=True)


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
