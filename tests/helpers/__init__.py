"""What many tests share: the CLI run as a user runs it, its one-line errors, free ports, RGBA frames."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

#: Generous: a build may convert a model (TensorFlow import and conversion) on a loaded machine.
CLI_TIMEOUT_S = 900


def gazesite(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, exactly as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "gazesite", *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=CLI_TIMEOUT_S
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """The command failed with one line on stderr, "Error: ...", holding every fragment, and no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def to_rgba(rgb: np.ndarray) -> np.ndarray:
    """Turn an RGB uint8 image into the RGBA layout browsers hand to the pipeline."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA)


def env_with_cache(cache: Path) -> dict[str, str]:
    """The environment with gazesite's cache in ``cache`` (converted models are reused between builds)."""
    return {**os.environ, "XDG_CACHE_HOME": str(cache)}


def run_build(env: dict[str, str], out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``gazesite build --no-probe --out OUT ARGS`` with ``env`` (a private cache, see env_with_cache)."""
    return gazesite("build", "--no-probe", "--out", out, *args, env=env)


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file of a folder (relative path) with its SHA-256: equal digests mean byte-identical folders."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}
