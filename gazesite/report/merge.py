"""Join the inputs that hold one participant's session: a session exported twice, or sent to the server in parts."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from gazesite.report.model import PageInfo, Samples, Session

log = logging.getLogger(__name__)


def merge_sessions(sessions: list[Session]) -> list[Session]:
    """Join sessions that share a participant id (one session exported twice, or sent in parts)."""
    by_id: dict[str, list[Session]] = {}
    for session in sessions:
        by_id.setdefault(session.participant, []).append(session)
    merged = []
    for participant, parts in by_id.items():
        if len(parts) == 1:
            merged.append(parts[0])
            continue
        first = parts[0]
        pages: dict[str, PageInfo] = {}
        for part in parts:
            pages.update({key: value for key, value in part.pages.items() if key not in pages})
        log.info("participant %s: merged %d inputs (%s)", participant, len(parts), ", ".join(p.sources[0] for p in parts))
        merged.append(
            Session(
                participant=participant,
                sources=[source for part in parts for source in part.sources],
                version=max(part.version for part in parts),
                mode=next((part.mode for part in parts if part.mode != "frame"), first.mode),
                samples=Samples.concat([part.samples for part in parts]).in_time_order(),
                calibration_error=next((p.calibration_error for p in parts if p.calibration_error is not None), None),
                screen=next((part.screen for part in parts if part.screen is not None), None),
                pages=pages,
                participant_id=next((part.participant_id for part in parts if part.participant_id is not None), None),
                page_start=_earliest(part.page_start for part in parts),
                page_end=_latest(part.page_end for part in parts),
                calibrated_from=_earliest(part.calibrated_from for part in parts),
            )
        )
    return merged


def _earliest(times: Iterable[float | None]) -> float | None:
    return min((time for time in times if time is not None), default=None)


def _latest(times: Iterable[float | None]) -> float | None:
    return max((time for time in times if time is not None), default=None)
