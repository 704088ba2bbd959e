"""Gather a report's inputs: the sample files named and the sessions of a collect database, within the report's limits.

Every input is hostile until checked: files are read through ``gazesite.bounded``
(regular file, size, JSON nesting) and each document is checked field by field
(``documents``). A bad file stops the report (the researcher named it); a bad or
surplus collected session is left out and listed (anyone can post to a collect server).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gazesite.bounded import InputError, read_bounded
from gazesite.report.documents import ExportIndex, reported, session_from_checked, session_from_document
from gazesite.report.merge import merge_sessions
from gazesite.report.model import LeftOut, ReportError, Session
from gazesite.samples.io import from_csv, from_json, is_json
from gazesite.samples.schema import MAX_FILE_BYTES, SESSION_ID

log = logging.getLogger(__name__)

#: Most samples in one report (one session holds at most gazesite.samples.schema.MAX_SAMPLES_PER_SESSION).
MAX_SAMPLES_TOTAL = 2_000_000
#: Most input files and collected sessions in one report.
MAX_SESSIONS = 10_000
#: Most left-out sessions listed one by one; the rest are counted.
MAX_LISTED = 1000


def read_inputs(paths: Sequence[Path], db: Path | None = None) -> tuple[list[Session], list[LeftOut]]:
    """Read every sample file and every session of ``db``; sessions sharing an id are merged, in input order.

    A bad sample file stops the report: the researcher named it. A bad session in the database is left
    out and listed: anyone can post to a collect server, and one participant must not stop a study's report.
    """
    if not paths and db is None:
        raise ReportError("no input: give sample files (JSON or CSV) and/or --db FILE")
    sessions, skipped = [], []
    for path in dict.fromkeys(paths):
        try:
            sessions.append(read_sample_file(Path(path)))
        except ExportIndex as exc:  # DIR/* of an export folder names its index too: not a participant
            log.warning("skipped %s", exc.message)
            skipped.append(str(path))
    if skipped and not sessions and db is None:
        raise ReportError(f"no sample file among the inputs: {', '.join(skipped)} is an export's index; give the session files")
    # The files the researcher named must all fit; the database's sessions fill what room is left.
    if len(sessions) > MAX_SESSIONS:
        raise ReportError(f"{len(sessions)} sample files: at most {MAX_SESSIONS} fit in one report")
    named = merge_sessions(sessions)
    total = sum(len(session.samples) for session in named)
    if total > MAX_SAMPLES_TOTAL:
        raise ReportError(f"the sample files hold {total:,} samples, more than the {MAX_SAMPLES_TOTAL:,} one report reads")
    if db is None:
        return named, []
    room = Room(MAX_SESSIONS - len(named), MAX_SAMPLES_TOTAL - total, {session.participant for session in named})
    collected, left_out = read_database(Path(db), room)
    return merge_sessions(sessions + collected), left_out


@dataclass
class Room:
    """What a report still has room for after the sample files: sessions and samples; ids of sessions already in."""

    sessions: int
    samples: int
    named: set[str] = field(default_factory=set)  # a collected session with one of these ids joins that file: always in

    def take(self, session: Session) -> bool:
        """Take the session if it fits (the sessions before it came first), and say so."""
        if session.participant in self.named:
            return True
        if self.sessions < 1 or len(session.samples) > self.samples:
            return False
        self.sessions -= 1
        self.samples -= len(session.samples)
        return True


def read_database(db: Path, room: Room | None = None) -> tuple[list[Session], list[LeftOut]]:
    """Read the sessions a ``gazesite collect`` database holds, one at a time, in the order they arrived.

    A session that fails a check is left out, with why. So is one past the report's limits (``room``): anyone can
    post to a collect server, so a flood must not refuse the study's report; what does not fit is listed (the
    server's quota and rate limit bound how much can arrive at all), and never held in memory.
    """
    try:
        from gazesite.collect.storage import iter_sessions
    except ImportError:
        raise ReportError(f"--db {db}: this installation has no collection storage (gazesite.collect.storage)") from None
    if not db.is_file():
        raise ReportError(f"--db {db}: no such database file")
    import sqlite3

    room = room or Room(MAX_SESSIONS, MAX_SAMPLES_TOTAL)
    sessions: list[Session] = []
    left_out: list[LeftOut] = []
    past_limits = 0
    try:
        for index, document in enumerate(iter_sessions(db), start=1):
            try:
                session = session_from_document(document, f"--db {db} (session {index})", fallback_id=f"{db.name}#{index}")
            except ReportError as exc:
                named = document.get("session") if isinstance(document, dict) else None
                left_out.append(LeftOut(named if isinstance(named, str) and SESSION_ID.fullmatch(named) else None, exc.message))
                log.warning("left out: %s", exc.message)
                continue
            if room.take(session):
                sessions.append(session)
                continue
            past_limits += 1
            if past_limits <= MAX_LISTED:  # the list itself stays readable and small; the rest are counted
                limit = f"{MAX_SESSIONS:,} sessions" if room.sessions < 1 else f"{MAX_SAMPLES_TOTAL:,} samples"
                left_out.append(LeftOut(session.participant, f"{len(session.samples):,} samples past the report's limit of {limit}"))
    except (OSError, ValueError, sqlite3.Error) as exc:  # not a database, a locked or damaged one
        raise ReportError(f"--db {db}: cannot be read as a collection database ({exc})") from None
    if past_limits:
        log.warning("left out %d collected session(s) past the report's limits", past_limits)
    if past_limits > MAX_LISTED:
        left_out.append(LeftOut(None, f"and {past_limits - MAX_LISTED:,} more sessions past the report's limits"))
    return sessions, left_out


def read_sample_file(path: Path) -> Session:
    """Read one sample file, JSON or CSV (told apart by its first character, not its name), within MAX_FILE_BYTES."""
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except InputError as exc:
        raise ReportError(f"{path}: {exc}") from None
    with reported():
        if is_json(data):
            return session_from_checked(from_json(data, str(path)), str(path), fallback_id=str(path))
        # A CSV names no session and no mode: the file is the participant, its samples read as frame mode.
        return session_from_checked(from_csv(data, str(path)), str(path), fallback_id=str(path), mode="frame")
