"""What ``gazesite collect`` stores, ``gazesite report`` reads: one participant cannot break a study's report."""

from __future__ import annotations

import csv
import glob
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gazesite.collect.protocol import BATCH_FORMAT, BATCH_VERSION, BatchError, validate_batch
from gazesite.collect.storage import Storage, read_sessions
from gazesite.commands import cli
from gazesite.report.read import read_database
from tests.helpers import report_sessions as rs
from tests.helpers.collect import make_batch
from tests.helpers.report_sessions import SESSION_A, SESSION_B

#: Page time after calibration: A, saccade, B.
PLAN = [rs.Dwell(rs.POINT_A, 600), rs.Saccade(66.7), rs.Dwell(rs.POINT_B, 3000)]


def _with_sample(**fields: Any) -> dict[str, Any]:
    """A batch whose first sample has these fields changed (None: removed)."""
    batch = make_batch()
    sample = batch["samples"][0]
    for key, value in fields.items():
        if value is None:
            sample.pop(key, None)
        else:
            sample[key] = value
    return batch


def _v2(**fields: Any) -> dict[str, Any]:
    """A version 2 batch (a session id in meta) whose first sample has these fields changed."""
    batch = _with_sample(**fields)
    batch["meta"] = {**batch["meta"], "version": 2, "session": batch["session"], "study": batch["study"]}
    return batch


#: Batches a hostile client could post; each must be refused at the door or be readable by the report.
HOSTILE = {
    "no viewport": _with_sample(viewport=None),
    "no scroll": _with_sample(scroll=None),
    "negative viewport": _with_sample(viewport=[-5, 800]),
    "far coordinate": _with_sample(x=5e9),
    "time beyond a day": _with_sample(t=1e11),
    "long page id": _v2(page="/" + "a" * 1500, raw=[1, 2], doc=[1, 2], element=None),
    "empty element": _v2(page="/a", raw=[1, 2], doc=[1, 2], element=""),
    "unprintable element": _v2(page="/a", raw=[1, 2], doc=[1, 2], element="div#a\u00a0b"),
    "long page in meta": {**_v2(), "meta": {**_v2()["meta"], "pages": [{"id": "/" + "p" * 1500, "width": 100, "height": 100}]}},
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_batch_the_server_stores_is_one_the_report_reads(tmp_path: Path, name: str) -> None:
    try:
        batch = validate_batch(json.loads(json.dumps(HOSTILE[name])))
    except BatchError:
        return  # refused at the door with a 400: nothing stored
    db = tmp_path / "study.db"
    storage = Storage(db)
    storage.store([batch])
    storage.close()
    sessions, left_out = read_database(db)
    assert left_out == [] and len(sessions) == 1 and len(sessions[0].samples) == 3


def test_a_session_the_report_cannot_read_is_left_out_and_named(tmp_path: Path) -> None:
    """A database written before these checks (or edited) holds a bad session: the study's report still comes out."""
    db = tmp_path / "study.db"
    storage = Storage(db)
    storage.store([validate_batch(make_batch(session=SESSION_A)), validate_batch(make_batch(session=SESSION_B))])
    storage.close()
    broken = make_batch(session=SESSION_B)["samples"]
    del broken[1]["viewport"]
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE batches SET samples = ? WHERE session = ?", (json.dumps(broken), SESSION_B))
    connection.close()
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "gazesite", "report", "--db", str(db), "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "report.json").read_text())
    assert [row["id"] for row in manifest["participants"]] == [SESSION_A]
    (left,) = manifest["left_out"]
    assert left["session"] == SESSION_B and "sample 2: 'viewport'" in left["reason"] and "(session 2)" in left["reason"]
    warnings = [line for line in result.stderr.splitlines() if "left out" in line]
    assert len(warnings) == 1 and "sample 2: 'viewport'" in warnings[0]
    html = (out / "index.html").read_text()
    assert 'id="left-out-sessions"' in html and SESSION_B in html and "1 collected session could not be read" in html


def test_without_bad_sessions_nothing_is_left_out(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    storage = Storage(db)
    storage.store([validate_batch(make_batch(session=SESSION_A))])
    storage.close()
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "gazesite", "report", "--db", str(db), "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "report.json").read_text())["left_out"] == []
    assert "left-out" not in (out / "index.html").read_text() and "left out" not in result.stderr


def _study_batch(**meta: Any) -> dict[str, Any]:
    """A samples v2 batch as a study page sends it: a participant id, pageStart and pageEnd in its meta."""
    study = rs.study_document(rs.SESSION_A, PLAN)
    doc = study.doc
    keys = (
        "format",
        "version",
        "target",
        "created",
        "started",
        "mode",
        "screen",
        "calibration",
        "pages",
        "participant",
        "pageStart",
        "pageEnd",
    )
    return {
        "format": BATCH_FORMAT,
        "version": BATCH_VERSION,
        "session": rs.SESSION_A,
        "study": doc["study"],
        "sequence": 0,
        "meta": {**{key: doc[key] for key in keys}, **meta},
        "samples": doc["samples"],
    }


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"participant": "has space"}, "meta.participant must be null or a participant id, 1-128 characters of A-Z"),
        ({"participant": "p" * 129}, "meta.participant must be null or a participant id"),
        ({"participant": 5}, "meta.participant must be null or a participant id"),
        ({"participant": ""}, "meta.participant must be null or a participant id"),
        ({"pageStart": -1}, "meta.pageStart must be null or a number of ms from 0 to 8.64e+07"),
        ({"pageStart": "31000"}, "meta.pageStart must be null or a number of ms"),
        ({"pageStart": True}, "meta.pageStart must be null or a number of ms"),
        ({"pageStart": 1e9}, "meta.pageStart must be null or a number of ms"),
        ({"pageEnd": -5}, "meta.pageEnd must be null or a number of ms"),
        ({"pageStart": 5000, "pageEnd": 4000}, "meta.pageEnd must be null or not before meta.pageStart"),
    ],
)
def test_the_door_refuses_a_bad_participant_or_page_time(meta: dict[str, Any], message: str) -> None:
    with pytest.raises(BatchError) as caught:
        validate_batch(json.loads(json.dumps(_study_batch(**meta))))
    assert str(caught.value) == message or str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_participant_and_page_times_go_from_the_batch_to_the_report(tmp_path: Path) -> None:
    batch = _study_batch()
    db = tmp_path / "study.db"
    storage = Storage(db)
    storage.store([validate_batch(json.loads(json.dumps(batch)))])
    storage.close()
    (document,) = read_sessions(db)
    meta = batch["meta"]
    assert (document["participant"], document["pageStart"], document["pageEnd"]) == (
        meta["participant"],
        meta["pageStart"],
        meta["pageEnd"],
    )
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = json.loads((out / "report.json").read_text())["participants"]
    assert row["id"] == rs.SESSION_A and row["participant_id"] == rs.PARTICIPANT_ID
    assert row["window_basis"] == "pageStart" and row["window_start_ms"] == pytest.approx(meta["pageStart"])
    before = sum(sample["source"] == "model" for sample in batch["samples"])
    assert row["samples_outside_window"] == before and row["face_share"] >= 0.95
    with open(out / "participants.csv", newline="", encoding="utf-8") as handle:
        assert [line["participant_id"] for line in csv.DictReader(handle)] == [rs.PARTICIPANT_ID]
    assert f"<code>{rs.PARTICIPANT_ID}</code>" in (out / "index.html").read_text()


def test_a_report_of_an_export_folder_reads_the_sessions_only(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    storage = Storage(db)
    storage.store([validate_batch(make_batch(session=SESSION_A, count=30)), validate_batch(make_batch(session=SESSION_B, count=30))])
    storage.close()
    export = tmp_path / "export"
    done = subprocess.run(
        [sys.executable, "-m", "gazesite", "collect", "export", "--db", str(db), "--out", str(export)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # What a shell makes of export/*.json: the session files, and no index among them.
    matched = sorted(glob.glob(str(export / "*.json")))
    assert [Path(name).name for name in matched] == [f"{SESSION_A}.json", f"{SESSION_B}.json"]
    # export/* holds the index too, and an older export named it export.json: both are skipped with a line.
    (export / "export.json").write_text((export / "export.index").read_text())
    everything = sorted(glob.glob(str(export / "*")))
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "gazesite", "report", *everything, "--out", str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "2 participants (2 included)" in result.stdout
    skipped = [line for line in result.stderr.splitlines() if line.startswith("WARNING skipped")]
    assert len(skipped) == 2 and all("the index of a 'gazesite collect export'" in line for line in skipped)
    # Only the index: one line naming it.
    only = subprocess.run(
        [sys.executable, "-m", "gazesite", "report", str(export / "export.index"), "--out", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in only.stderr.splitlines() if line.startswith("Error:")]
    assert only.returncode == 1 and len(errors) == 1 and "export.index is an export's index" in errors[0]
