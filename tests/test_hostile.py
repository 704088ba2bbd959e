"""Inputs an attacker or a careless user hands gazesite: each is refused in one line or contained."""

from __future__ import annotations

from pathlib import Path

import pytest

from gazesite.errors import GazesiteError
from gazesite.staging import staged_directory


def test_failed_swap_keeps_the_previous_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    (out / "index.html").write_text("previous build")
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self.name.startswith(".dist-new-"):  # the new output refuses to move into place
            raise OSError(5, "Input/output error")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(GazesiteError, match="previous"):
        with staged_directory(out) as staging:
            (staging / "index.html").write_text("new build")
    assert (out / "index.html").read_text() == "previous build"
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]  # nothing half-written is left beside it
