"""What the report writes: private files, and CSV cells that never hand a spreadsheet a formula."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from gazesite.commands import cli
from gazesite.report.html import csv_cell
from tests.helpers import report_sessions as rs


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        (" =1+1", "' =1+1"),  # spreadsheets trim the space first
        ("\u00a0=1+1", "'\u00a0=1+1"),  # a no-break space
        ("\u3000@SUM(A1)", "'\u3000@SUM(A1)"),  # an ideographic space
        ("\uff1dcmd|' /C calc'!A0", "'\uff1dcmd|' /C calc'!A0"),  # a full-width equals sign
        ("\uff0b1", "'\uff0b1"),
        ("\tx", "'\tx"),
        ('main;=HYPERLINK("x")', 'main;\'=HYPERLINK("x")'),  # a ';' locale splits the cell there
        ("a; -1", "a;' -1"),
        ("/about.html", "/about.html"),
        ("div > p:nth-child(2)", "div > p:nth-child(2)"),
        (12.5, 12.5),
        (None, ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_quoted(text: object, written: object) -> None:
    assert csv_cell(text) == written


def test_the_fixations_csv_quotes_a_hostile_element(tmp_path: Path) -> None:
    doc = rs.document(rs.SESSION_A, rs.a_then_b())
    for sample in doc["samples"]:
        sample["element"] = '\u00a0=HYPERLINK("http://x")'
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", str(rs.write(tmp_path / "a.json", doc)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with open(out / "fixations.csv", newline="", encoding="utf-8") as handle:
        elements = {row["element"] for row in csv.DictReader(handle)}
    assert elements == {'\'\u00a0=HYPERLINK("http://x")'}


def test_the_report_is_readable_by_its_owner_only_like_the_database(tmp_path: Path) -> None:
    out = tmp_path / "report"
    sample = rs.write(tmp_path / "a.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    assert CliRunner().invoke(cli, ["report", str(sample), "--out", str(out)]).exit_code == 0
    modes = {path.relative_to(out).as_posix(): path.stat().st_mode & 0o777 for path in [out, *out.rglob("*")]}
    assert modes["."] == 0o700 and modes["heatmaps"] == 0o700 and modes["report.json"] == 0o600
    assert set(modes.values()) == {0o700, 0o600}, modes
