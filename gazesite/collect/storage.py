"""Where collected batches live: SQLite in WAL mode, behind four calls the server and the report use.

``Storage(path, max_bytes).store(batches)`` writes a group of validated batches
in one transaction (idempotent on (session, sequence)), refusing a new session
once the file and its WAL reach ``max_bytes``, any session past the overdraft,
and a session past ``MAX_SESSION_SAMPLES``; ``read_sessions(path)``
returns one samples v2 document per session; ``export_sessions(path, out)``
writes them as files; ``database_counts(path)`` counts what is stored.

The schema is one table, ``batches``, keyed by (session, sequence), with the
samples and the session metadata as JSON text. The Postgres path (docs: guides/collect.md,
"Collecting sessions") keeps the same table with ``jsonb`` columns and the
same ``INSERT ... ON CONFLICT (session, sequence) DO NOTHING``; only this
module changes.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from gazesite.collect.protocol import DEFAULT_MAX_DB_BYTES, MAX_SESSION_SAMPLES, QUOTA_OVERDRAFT, Batch
from gazesite.errors import GazesiteError
from gazesite.samples.schema import EXPORT_INDEX_FORMAT, SAMPLE_FORMAT_NAME, SAMPLE_VERSION
from gazesite.samples.upgrade import upgrade_sample
from gazesite.staging import OutputKind, out_problem, staged_directory

log = logging.getLogger(__name__)

DB_FORMAT = "gazesite-collect"
SCHEMA_VERSION = 1
#: How long a writer waits for another connection's lock before giving up (ms).
BUSY_TIMEOUT_MS = 5000
#: Sessions whose stored sample count the writer keeps in memory (others are read back from the index).
MAX_CACHED_SESSIONS = 10_000
#: Gaps listed per session in an export's "collected" block (the count is always exact).
MAX_LISTED_GAPS = 100
#: The export's index of sessions: not named *.json, so ``gazesite report DIR/*.json`` reads the sessions only.
EXPORT_MARKER = "export.index"
EXPORT_OUTPUT = OutputKind("gazesite collect export", EXPORT_MARKER, ("format", "sessions"))
#: The index's name before it was renamed: an export folder that holds it may still be replaced.
LEGACY_EXPORT_OUTPUT = OutputKind("gazesite collect export", "export.json", ("format", "sessions"))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,  -- arrival order: sessions are listed by their first batch's
    session TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    study TEXT,
    received TEXT NOT NULL,
    meta TEXT,
    samples TEXT NOT NULL,
    sample_count INTEGER NOT NULL,
    digest TEXT NOT NULL,
    UNIQUE (session, sequence)
);
-- Covers a session's sample count, so the per-session cap never reads the samples themselves.
CREATE INDEX IF NOT EXISTS batches_session_samples ON batches (session, sample_count);
"""

STORED, DUPLICATE, CONFLICT = "stored", "duplicate", "conflict"
#: Refused for room: the database reached --max-db-bytes (new sessions) or its overdraft (all); the session its cap.
FULL, SESSION_FULL = "full", "session full"


class StorageError(GazesiteError):
    """The database cannot be opened, read or written; the message names the file."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one batch: stored, duplicate (an identical retry), conflict (same key, other content), or refused for room."""

    status: str
    reason: str = ""


def now_iso() -> str:
    """The current UTC time as ISO 8601 with milliseconds, as the page writes times."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _require_database_file(path: Path, create: bool) -> None:
    """Refuse a path that is not (or cannot become) a regular database file."""
    if path.is_symlink():  # a dangling one would have SQLite create its target, readable by all
        raise StorageError(f"--db {path}: is a symbolic link: give the database file itself")
    if not path.exists():
        if not create:
            raise StorageError(f"--db {path}: no such database (expected a file written by 'gazesite collect')")
        if not path.parent.is_dir():
            raise StorageError(f"--db {path}: the folder {path.parent} does not exist")
        try:  # gaze data is personal data: readable by its owner only
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StorageError(f"--db {path}: cannot be created ({exc.strerror})") from None
    elif not stat.S_ISREG(os.stat(path).st_mode):
        raise StorageError(f"--db {path}: is not a regular file (expected a SQLite database written by 'gazesite collect')")


def _check_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a SQLite file some other program wrote."""
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return
    info = dict(connection.execute("SELECT key, value FROM schema_info").fetchall()) if "schema_info" in tables else {}
    if info.get("format") != DB_FORMAT:
        raise StorageError(f"--db {path}: is a SQLite database of another program (expected one written by 'gazesite collect')")
    if info.get("version") != str(SCHEMA_VERSION):
        raise StorageError(f"--db {path}: has schema version {info.get('version')}, this gazesite reads version {SCHEMA_VERSION}")


class Storage:
    """A writable collect database (one per server process; writes happen on one thread)."""

    def __init__(self, path: Path, max_bytes: int | None = DEFAULT_MAX_DB_BYTES) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes  # None: no quota
        self.session_samples: OrderedDict[str, int] = OrderedDict()  # committed samples per recent session
        _require_database_file(self.path, create=True)
        try:
            # check_same_thread off: the server opens it on the main thread and writes on its writer thread only.
            self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            _check_schema(self.connection, self.path)
            self.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if self.connection.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
                raise StorageError(f"--db {self.path}: SQLite could not switch it to WAL mode")
            # FULL: an acknowledged batch survives a crash of the machine, not only of the process.
            # Group commits (the server writes every waiting batch in one transaction) keep the fsyncs few.
            self.connection.execute("PRAGMA synchronous = FULL")
            self.connection.executescript(_SCHEMA)
            self.connection.execute(
                "INSERT OR IGNORE INTO schema_info VALUES ('format', ?), ('version', ?)",
                (DB_FORMAT, str(SCHEMA_VERSION)),
            )
        except sqlite3.Error as exc:
            raise StorageError(f"--db {self.path}: {exc}") from None

    def size(self) -> int:
        """Bytes on disk: the database file and its WAL (what --max-db-bytes bounds)."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            with suppress(FileNotFoundError):  # no WAL yet
                total += os.stat(path).st_size
        return total

    def store(self, batches: list[Batch], received: str | None = None) -> list[Outcome]:
        """Write the batches in one transaction; return one Outcome per batch, in order. StorageError rolls all back."""
        received = received or now_iso()
        cursor = self.connection.cursor()
        pending: dict[str, int] = {}  # sample counts of the sessions this transaction writes
        try:
            size = self.size() if self.max_bytes is not None else 0  # one look per group: two stat calls
            cursor.execute("BEGIN IMMEDIATE")
            outcomes = []
            for batch in batches:
                outcome = self._store_one(cursor, batch, received, size, pending)
                if outcome.status == STORED:
                    size += len(batch.samples_json) + len(batch.meta_json or "")
                outcomes.append(outcome)
            cursor.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise StorageError(f"--db {self.path}: cannot store batches ({exc})") from None
        except OSError as exc:
            raise StorageError(f"--db {self.path}: cannot be measured ({exc.strerror})") from None
        for session, count in pending.items():  # only once committed
            self.session_samples[session] = count
            self.session_samples.move_to_end(session)
        while len(self.session_samples) > MAX_CACHED_SESSIONS:
            self.session_samples.popitem(last=False)
        return outcomes

    def _stored_samples(self, cursor: sqlite3.Cursor, session: str, pending: dict[str, int]) -> int:
        """Samples a session holds so far: this transaction's count, the remembered one, or the index's."""
        if session in pending:
            return pending[session]
        if session in self.session_samples:
            return self.session_samples[session]
        return int(cursor.execute("SELECT COALESCE(SUM(sample_count), 0) FROM batches WHERE session = ?", (session,)).fetchone()[0])

    def _room_problem(self, batch: Batch, size: int, new_session: bool) -> str | None:
        """Why the quota refuses this batch, or None."""
        if self.max_bytes is None:
            return None
        if new_session and size >= self.max_bytes:
            return (
                f"the database holds {size:,} bytes, its limit is --max-db-bytes {self.max_bytes}: no new sessions are taken, retry later"
            )
        if size >= self.max_bytes * (1 + QUOTA_OVERDRAFT):
            return (
                f"the database holds {size:,} bytes, past its limit (--max-db-bytes {self.max_bytes}) "
                f"and the {QUOTA_OVERDRAFT:.0%} left for sessions already started"
            )
        return None

    def _store_one(self, cursor: sqlite3.Cursor, batch: Batch, received: str, size: int, pending: dict[str, int]) -> Outcome:
        row = cursor.execute("SELECT study FROM batches WHERE session = ? LIMIT 1", (batch.session,)).fetchone()
        if row is not None and row[0] != batch.study:
            return Outcome(CONFLICT, f"session {batch.session} belongs to study {row[0]!r}, not {batch.study!r}")
        stored = cursor.execute("SELECT digest FROM batches WHERE session = ? AND sequence = ?", (batch.session, batch.sequence)).fetchone()
        if stored is not None:  # a retry is answered even when the database is full
            if stored[0] == batch.digest:
                return Outcome(DUPLICATE)
            return Outcome(CONFLICT, f"batch {batch.sequence} of session {batch.session} was stored before with other content")
        if problem := self._room_problem(batch, size, new_session=row is None):
            return Outcome(FULL, problem)
        samples = self._stored_samples(cursor, batch.session, pending) if row is not None else 0
        if samples + len(batch.samples) > MAX_SESSION_SAMPLES:
            return Outcome(
                SESSION_FULL,
                f"session {batch.session} holds {samples:,} samples: at most {MAX_SESSION_SAMPLES:,} per session",
            )
        cursor.execute(
            "INSERT INTO batches (session, sequence, study, received, meta, samples, sample_count, digest) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session, sequence) DO NOTHING",
            (
                batch.session,
                batch.sequence,
                batch.study,
                received,
                batch.meta_json,
                batch.samples_json,
                len(batch.samples),
                batch.digest,
            ),
        )
        pending[batch.session] = samples + len(batch.samples)
        return Outcome(STORED)

    def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL when the last connection closes)."""
        self.connection.close()


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open an existing collect database for reading only (a running server may keep writing)."""
    path = Path(path)
    _require_database_file(path, create=False)
    try:
        connection = sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _check_schema(connection, path)
    except sqlite3.Error as exc:
        raise StorageError(f"--db {path}: cannot be read ({exc})") from None
    return connection


#: Samples v2 document fields a batch's meta carries as the page learns them (docs: guides/collect.md, "Samples version 2").
_LATEST_KNOWN = ("participant", "pageStart", "pageEnd")


def _session_document(session: str, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Assemble one session's batches (sorted by sequence) into a samples v2 document."""
    meta: dict[str, Any] = {}
    pages: dict[str, dict[str, Any]] = {}
    samples: list[dict[str, Any]] = []
    # A page learns these during the session (pageEnd at its end): each keeps the latest batch's value that is not null.
    known: dict[str, Any] = dict.fromkeys(_LATEST_KNOWN)
    for _sequence, _study, _received, meta_json, samples_json in rows:
        if meta_json is not None:
            meta = json.loads(meta_json)  # the latest batch's view of the session wins (calibration may change)
            for page in meta.get("pages") or []:
                pages[page["id"]] = page
            known.update({key: meta[key] for key in _LATEST_KNOWN if meta.get(key) is not None})
        # A row that is not an object (a database edited by hand) is left for the reader's check to name.
        samples.extend(upgrade_sample(sample) if isinstance(sample, dict) else sample for sample in json.loads(samples_json))
    sequences = [row[0] for row in rows]
    gaps: list[int] = []
    previous = -1
    for sequence in sequences:  # ranges, not sets: a hostile sequence of 10**9 costs nothing
        gaps.extend(range(previous + 1, sequence)[: MAX_LISTED_GAPS - len(gaps)])
        previous = sequence
    return {
        "format": SAMPLE_FORMAT_NAME,
        "version": SAMPLE_VERSION,
        "target": meta.get("target"),
        "created": rows[-1][2],
        "started": meta.get("started"),
        "mode": meta.get("mode", "frame"),
        "session": session,
        "study": rows[0][1],
        "screen": meta.get("screen"),
        "calibration": meta.get("calibration"),
        "pages": list(pages.values()),
        **known,
        "samples": samples,
        # Not part of the page's export: what the server saw arrive.
        "collected": {
            "batches": len(rows),
            "missingBatches": sequences[-1] + 1 - len(rows),
            "missingSequences": gaps,
            "firstReceived": min(row[2] for row in rows),
            "lastReceived": max(row[2] for row in rows),
        },
    }


def iter_sessions(path: Path) -> Iterator[dict[str, Any]]:
    """Yield one samples v2 document per session, in the order their first batches arrived (one in memory at a time)."""
    with closing(connect_readonly(path)) as connection:
        try:
            if not _has_batches_table(connection):  # created, but the server stopped before its first write
                return
            sessions = connection.execute("SELECT session FROM batches GROUP BY session ORDER BY MIN(id)").fetchall()
            for (session,) in sessions:
                rows = connection.execute(
                    "SELECT sequence, study, received, meta, samples FROM batches WHERE session = ? ORDER BY sequence",
                    (session,),
                ).fetchall()
                yield _session_document(session, rows)
        except sqlite3.Error as exc:
            raise StorageError(f"--db {path}: cannot be read ({exc})") from None


def _has_batches_table(connection: sqlite3.Connection) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'batches'").fetchone() is not None


def read_sessions(db_path: Path | str) -> list[dict[str, Any]]:
    """Return every stored session as a samples v2 document (the shape of the page's "Samples (JSON)")."""
    return list(iter_sessions(Path(db_path)))


def database_counts(db_path: Path | str) -> dict[str, int]:
    """Count sessions, batches and samples in a collect database."""
    with closing(connect_readonly(Path(db_path))) as connection:
        if not _has_batches_table(connection):
            return {"sessions": 0, "batches": 0, "samples": 0}
        sessions, batches, samples = connection.execute(
            "SELECT COUNT(DISTINCT session), COUNT(*), COALESCE(SUM(sample_count), 0) FROM batches"
        ).fetchone()
    return {"sessions": sessions, "batches": batches, "samples": samples}


def export_sessions(db_path: Path, out: Path) -> dict[str, Any]:
    """Write ``out/<session>.json`` per session and ``out/export.index``, all or nothing; return the summary."""
    if (problem := out_problem(out, EXPORT_OUTPUT)) and out_problem(out, LEGACY_EXPORT_OUTPUT):
        raise StorageError(problem)
    summary: dict[str, Any] = {"format": EXPORT_INDEX_FORMAT, "database": str(db_path), "sessions": {}}
    with staged_directory(out, private=True) as staging:  # participants' data: as private as the database
        for document in iter_sessions(db_path):
            name = f"{document['session']}.json"  # session ids are [A-Za-z0-9_-]: safe file names
            (staging / name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            summary["sessions"][document["session"]] = {
                "file": name,
                "study": document["study"],
                "samples": len(document["samples"]),
            }
        (staging / EXPORT_MARKER).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary
