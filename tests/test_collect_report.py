"""What ``gazesite collect`` stores, ``gazesite report`` reads: one participant cannot break a study's report."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gazesite.collect.protocol import BatchError, validate_batch
from gazesite.collect.storage import Storage
from gazesite.report.read import read_database

from .helpers.collect import make_batch
from .helpers.report_sessions import SESSION_A, SESSION_B


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
