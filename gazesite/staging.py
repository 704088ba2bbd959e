"""Write a folder completely or not at all.

Every command that writes a folder (train, convert, build) fills a temporary
folder beside the destination and swaps it into place only when everything
succeeded, so a failure leaves the previous output exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_directory(out: Path) -> Iterator[Path]:
    """Yield an empty folder to fill; on success it replaces ``out``, on error it vanishes."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    old = out.parent / f".{out.name}-old-{os.getpid()}"
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes it private; readers (static hosts, git) need it open
        if out.exists():
            out.rename(old)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
