"""JSON numbers no real input holds (10**309, 1e400, NaN): refused in one line at every door, never a traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from gazesite.bounded import MAX_INTEGER_DIGITS, InputError, parse_json
from gazesite.collect.protocol import BatchError, parse_batch
from gazesite.commands import cli
from tests.helpers import report_sessions as rs

HUGE_INTEGER = "1" + "0" * 309  # a valid JSON integer that no float holds
#: Literals Python's json module accepts and a strict reader must not.
BAD_NUMBERS = [HUGE_INTEGER, "-" + HUGE_INTEGER, "1e400", "-1e400", "NaN", "Infinity", "-Infinity"]
NAMES = ["10**309", "-10**309", "1e400", "-1e400", "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("literal", BAD_NUMBERS, ids=NAMES)
def test_parse_json_refuses_numbers_no_float_holds(literal: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_json(f'{{"t": {literal}}}')
    assert "\n" not in str(caught.value)


def test_parse_json_keeps_ordinary_numbers() -> None:
    big = "9" * MAX_INTEGER_DIGITS
    assert parse_json(f"[0, -1, 2.5, 1e308, {big}, -{big}]") == [0, -1, 2.5, 1e308, int(big), -int(big)]


def batch_with(literal: str) -> bytes:
    sample = '{"t": LIT, "x": 1, "y": 2, "viewport": [800, 600], "scroll": [0, 0]}'.replace("LIT", literal)
    return f'{{"format": "gazesite-batch", "version": 1, "session": "s-0123456789abcdef", "sequence": 0, "samples": [{sample}]}}'.encode()


@pytest.mark.parametrize("literal", BAD_NUMBERS, ids=NAMES)
def test_the_collect_door_refuses_them_in_one_line(literal: str) -> None:
    with pytest.raises(BatchError) as caught:
        parse_batch(batch_with(literal))
    assert str(caught.value).startswith("body ") and "\n" not in str(caught.value)
    assert parse_batch(batch_with("12.5")).samples[0]["t"] == 12.5  # the same batch with a real time passes


def report_error(args: list[str]) -> str:
    """Run the report; it must fail with one line on stderr and no traceback."""
    result = CliRunner().invoke(cli, ["report", *args])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, repr(result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("literal", [HUGE_INTEGER, "1e400", "NaN"], ids=["10**309", "1e400", "NaN"])
def test_a_sample_file_or_aoi_file_with_them_is_one_line(tmp_path: Path, literal: str) -> None:
    good = rs.write(tmp_path / "good.json", rs.document(rs.SESSION_A, rs.a_then_b()))
    text = json.dumps(rs.document(rs.SESSION_B, rs.a_then_b()), indent=2)
    bad = tmp_path / "bad.json"
    bad.write_text(text.replace('"dpr": 1', f'"dpr": {literal}', 1))
    assert str(bad) in report_error([str(bad), "--out", str(tmp_path / "out")])
    aoi = tmp_path / "aoi.json"
    aoi.write_text(f'[{{"name": "a", "page": "{rs.PAGE}", "rect": [0, 0, {literal}, 10]}}]')
    assert str(aoi) in report_error([str(good), "--aoi", str(aoi), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- lone surrogates ("\ud800" is valid JSON, not UTF-8)


def test_the_collect_door_refuses_a_lone_surrogate() -> None:
    body = json.loads(batch_with("12.5"))
    body["samples"][0]["page"] = "PAGE"
    with pytest.raises(BatchError) as caught:
        parse_batch(json.dumps(body).replace('"PAGE"', '"\\ud800"').encode())
    assert "sample 1: 'page'" in str(caught.value) and "lone surrogates" in str(caught.value)


def test_a_sample_file_with_a_lone_surrogate_is_one_line(tmp_path: Path) -> None:
    text = json.dumps(rs.document(rs.SESSION_A, rs.a_then_b())).replace(f'"page": "{rs.PAGE}"', '"page": "\\udc80x"')
    (tmp_path / "bad.json").write_text(text)
    line = report_error([str(tmp_path / "bad.json"), "--out", str(tmp_path / "out")])
    assert "sample 1: 'page'" in line and "lone surrogates" in line


def test_a_stored_session_with_a_lone_surrogate_is_left_out_not_fatal(tmp_path: Path) -> None:
    """A database written by an older server holds one: the report still comes out, the session listed."""
    from gazesite.collect.protocol import validate_batch
    from gazesite.collect.storage import Storage
    from tests.helpers.collect import make_batch

    db = tmp_path / "study.db"
    storage = Storage(db)
    storage.store([validate_batch(make_batch(session=rs.SESSION_A)), validate_batch(make_batch(session=rs.SESSION_B))])
    storage.close()
    samples = make_batch(session=rs.SESSION_B)["samples"]
    samples[0]["page"] = "PAGE"
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE batches SET samples = ? WHERE session = ?", (json.dumps(samples).replace('"PAGE"', '"\\ud800"'), rs.SESSION_B)
        )
    connection.close()
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [row["id"] for row in manifest["participants"]] == [rs.SESSION_A]
    assert [item["session"] for item in manifest["left_out"]] == [rs.SESSION_B]
