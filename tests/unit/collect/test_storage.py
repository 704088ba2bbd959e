"""The collect database: idempotent group writes, sessions read back as samples v2 documents, export."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gazesite.collect.protocol import Batch, BatchError, parse_batch, validate_batch
from gazesite.collect.storage import (
    CONFLICT,
    DUPLICATE,
    STORED,
    Storage,
    StorageError,
    database_counts,
    export_sessions,
    read_sessions,
)
from tests.helpers.collect import make_batch


def batch(**changes: Any) -> Batch:
    return validate_batch(make_batch(**changes))


def test_a_group_write_is_idempotent_on_session_and_sequence(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "gaze.db")
    first, again, other = batch(sequence=0), batch(sequence=0), batch(sequence=0, count=4)
    outcomes = storage.store([first, again, batch(sequence=1), other])
    assert [o.status for o in outcomes] == [STORED, DUPLICATE, STORED, CONFLICT]
    assert [o.status for o in storage.store([first])] == [DUPLICATE]
    storage.close()
    assert database_counts(tmp_path / "gaze.db") == {"sessions": 1, "batches": 2, "samples": 6}


def test_the_database_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "gaze.db")
    storage.store([batch()])
    assert stat.S_IMODE(os.stat(tmp_path / "gaze.db").st_mode) == 0o600
    assert storage.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    storage.close()


def test_sessions_read_back_in_sequence_order_as_samples_v2(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "gaze.db")
    session = "ordered-0123456789abc"
    batches = [make_batch(session=session, sequence=s, count=2, t0=1000.0 * s) for s in (2, 0, 3, 1)]
    batches[3]["meta"]["calibration"] = {"method": "eyes", "checkError": 0.07, "rawError": 0.31, "points": 9}
    batches[3]["meta"]["pages"] = [{"id": "snapshot-1280", "width": 1280, "height": 4000, "image": "snapshots/1280.png"}]
    batches[2]["meta"]["pages"] = [{"id": "snapshot-800", "width": 800, "height": 5000, "image": None}]
    storage.store([validate_batch(b) for b in batches])
    storage.store([batch(session="later-0123456789abcde", sequence=0, study=None)])
    storage.close()
    first, second = read_sessions(tmp_path / "gaze.db")
    assert first["format"] == "gazesite-samples" and first["version"] == 2
    assert first["session"] == session and first["study"] == "pilot" and first["mode"] == "frame"
    assert first["screen"] == [1920, 1080] and first["target"] == "https://example.org/"
    expected = [s for b in sorted(batches, key=lambda b: b["sequence"]) for s in b["samples"]]
    assert [s["t"] for s in first["samples"]] == [s["t"] for s in expected]
    # v1 samples gain the v2 fields as samples v2 tells readers to fill them.
    assert all(s["raw"] == [s["x"], s["y"]] and s["doc"] is None and s["page"] is None and s["element"] is None for s in first["samples"])
    assert [{k: s[k] for k in e} for s, e in zip(first["samples"], expected, strict=True)] == expected
    # The latest batch's metadata wins; pages of every batch are kept.
    assert first["calibration"] is None  # sequence 3 (the latest) carries none
    assert sorted(p["id"] for p in first["pages"]) == ["snapshot-1280", "snapshot-800"]
    assert first["collected"] == {**first["collected"], "batches": 4, "missingBatches": 0, "missingSequences": []}
    assert second["session"] == "later-0123456789abcde" and second["study"] is None


def test_gaps_are_reported_not_filled(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "gaze.db")
    storage.store([batch(sequence=s) for s in (0, 3, 1_000_000)])
    storage.close()
    (session,) = read_sessions(tmp_path / "gaze.db")
    assert session["collected"]["missingBatches"] == 1_000_001 - 3
    assert session["collected"]["missingSequences"][:3] == [1, 2, 4] and len(session["collected"]["missingSequences"]) == 100


def test_export_writes_one_file_per_session_all_or_nothing(tmp_path: Path) -> None:
    db = tmp_path / "gaze.db"
    storage = Storage(db)
    storage.store([batch(session="one-0123456789abcdef"), batch(session="two-0123456789abcdef", count=5)])
    storage.close()
    out = tmp_path / "export"
    result = subprocess.run(
        [sys.executable, "-m", "gazesite", "collect", "export", "--db", str(db), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "2 sessions, 8 samples" in result.stdout, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "export.index",
        "one-0123456789abcdef.json",
        "two-0123456789abcdef.json",
    ]
    documents = {d["session"]: d for d in read_sessions(db)}
    for name, document in documents.items():
        assert json.loads((out / f"{name}.json").read_text()) == document
    # Participants' data, as private as the database it came from.
    assert stat.S_IMODE(out.stat().st_mode) == 0o700 and {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}
    # A rerun replaces its own earlier export; a folder of something else is refused and left alone.
    assert (
        subprocess.run(
            [sys.executable, "-m", "gazesite", "collect", "export", "--db", str(db), "--out", str(out)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"jpeg")
    with pytest.raises(StorageError, match="not empty"):
        export_sessions(db, foreign)
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]


def test_reading_a_missing_database_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gazesite",
            "collect",
            "export",
            "--db",
            str(tmp_path / "none.db"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "no such database" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "none.db").exists() and not (tmp_path / "o").exists()


def test_an_empty_database_has_no_sessions(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    assert read_sessions(tmp_path / "empty.db") == []
    assert database_counts(tmp_path / "empty.db") == {"sessions": 0, "batches": 0, "samples": 0}


def test_the_digest_ignores_key_order_but_not_values() -> None:
    a = make_batch()
    reordered = {key: a[key] for key in reversed(list(a))}
    reordered["samples"] = [{k: s[k] for k in reversed(list(s))} for s in a["samples"]]
    assert validate_batch(reordered).digest == validate_batch(a).digest
    changed = make_batch()
    changed["samples"][1]["x"] += 0.1
    assert validate_batch(changed).digest != validate_batch(a).digest


def test_unknown_sample_fields_of_later_versions_pass_when_small() -> None:
    value = make_batch()
    value["samples"][0].update({"pupil": 3.2, "blink": False, "tag": "a", "vector": [1, 2, 3]})
    assert validate_batch(value).samples[0]["pupil"] == 3.2
    with pytest.raises(BatchError, match="field names"):
        validate_batch({**make_batch(), "samples": [{**make_batch()["samples"][0], "k" * 65: 1}]})


def test_parse_batch_refuses_what_json_allows_but_the_schema_does_not() -> None:
    with pytest.raises(BatchError, match="larger than"):
        parse_batch(b" " * (1024 * 1024 + 1))
    with pytest.raises(BatchError, match="nested deeper"):
        parse_batch(b"[" * 100_000)


def test_a_symbolic_link_as_db_is_refused_not_followed(tmp_path: Path) -> None:
    """A dangling link would have SQLite create the file it names, readable by everyone (0644)."""
    link = tmp_path / "gaze.db"
    link.symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(StorageError, match="is a symbolic link: give the database file itself"):
        Storage(link)
    assert not (tmp_path / "elsewhere.db").exists()
