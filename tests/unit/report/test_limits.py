"""A flood of posted sessions or pages never refuses a study's report: what does not fit is left out and listed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gazesite.collect.protocol import validate_batch
from gazesite.collect.storage import Storage
from gazesite.commands import cli
from gazesite.report import pages, read
from tests.helpers import report_sessions as rs
from tests.helpers.collect import make_batch


def database(path: Path, sessions: int, samples: int = 3) -> Path:
    """A real collect database holding ``sessions`` sessions of ``samples`` samples each, posted in this order."""
    storage = Storage(path)
    storage.store([validate_batch(make_batch(session=f"session-{index:012d}", count=samples)) for index in range(sessions)])
    storage.close()
    return path


def report(tmp_path: Path, *args: str | Path) -> dict[str, Any]:
    """Run the report in-process; it must succeed; return report.json."""
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", *map(str, args), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return dict(json.loads((out / "report.json").read_text()))


def test_more_collected_sessions_than_a_report_reads_leave_the_rest_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "MAX_SESSIONS", 5)
    db = database(tmp_path / "study.db", sessions=8)
    named = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    manifest = report(tmp_path, named, "--db", db)
    # The researcher's own file always counts; the database fills the remaining room in the order sessions arrived.
    assert [row["id"] for row in manifest["participants"]] == [rs.SESSION_A, *(f"session-{i:012d}" for i in range(4))]
    assert [item["session"] for item in manifest["left_out"]] == [f"session-{i:012d}" for i in range(4, 8)]
    assert all("past the report's limit of 5 sessions" in item["reason"] for item in manifest["left_out"])


def test_more_collected_samples_than_a_report_reads_leave_the_rest_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "MAX_SAMPLES_TOTAL", 10)
    db = database(tmp_path / "study.db", sessions=5, samples=3)
    manifest = report(tmp_path, "--db", db)
    assert len(manifest["participants"]) == 3 and len(manifest["left_out"]) == 2
    assert "3 samples past the report's limit of 10 samples" in manifest["left_out"][0]["reason"]


def test_the_list_of_left_out_sessions_stays_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "MAX_SESSIONS", 1)
    monkeypatch.setattr(read, "MAX_LISTED", 2)
    manifest = report(tmp_path, "--db", database(tmp_path / "study.db", sessions=6))
    assert [item["session"] for item in manifest["left_out"]][:2] == ["session-000000000001", "session-000000000002"]
    assert manifest["left_out"][2] == {"session": None, "reason": "and 3 more sessions past the report's limits"}


def test_sample_files_the_researcher_names_must_all_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "MAX_SAMPLES_TOTAL", 10)
    named = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    result = CliRunner().invoke(cli, ["report", str(named), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "the sample files hold" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def many_pages(session: str, count: int, seed: int = 0) -> dict[str, Any]:
    """A same-origin session whose samples walk through ``count`` page ids, one sample each, after 500 samples on /index.html."""
    doc = rs.document(session, rs.a_then_b(6000, 4000), page="/index.html", seed=seed)
    doc.update(mode="same-origin", pages=[])
    for index, sample in enumerate(doc["samples"][:count]):
        sample["page"] = f"/junk-{index}.html"
    return doc


def test_a_session_naming_thousands_of_pages_costs_the_report_a_bounded_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "MAX_PAGES_PER_SESSION", 20)
    monkeypatch.setattr(pages, "MAX_REPORT_PAGES", 8)
    honest = [rs.document(s, rs.a_then_b(), page="/index.html", seed=n) for n, s in enumerate((rs.SESSION_B, rs.SESSION_C), 1)]
    for doc in honest:
        doc.update(mode="same-origin", pages=[])
    flood = many_pages(rs.SESSION_A, count=480)
    inputs = [rs.write(tmp_path / f"{n}.json", doc) for n, doc in enumerate([flood, *honest])]
    began = time.monotonic()
    manifest = report(tmp_path, *inputs)
    seconds = time.monotonic() - began
    drawn = [page["id"] for page in manifest["pages"]]
    # Pages most participants looked at come first; one session's junk cannot push them out.
    assert drawn[0] == "/index.html" and len(drawn) == pages.MAX_REPORT_PAGES
    assert manifest["pages_not_drawn"]["count"] == pages.MAX_PAGES_PER_SESSION - pages.MAX_REPORT_PAGES
    print(f"report of a session naming 480 pages: {seconds:.1f} s, {len(drawn)} pages drawn")
