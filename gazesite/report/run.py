"""The report pipeline: check the options, read and check every input, measure, then write the report folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from gazesite.errors import ConfigError
from gazesite.report.aoi import Aoi, AoiSummary, AoiVisit, first_frames, measure, read_aois
from gazesite.report.fixations import Fixation, FixationSettings, detect_fixations
from gazesite.report.model import LeftOut, Session
from gazesite.report.pages import ReportPage, collect_pages, on_pages
from gazesite.report.quality import Quality, analysis_window, apply_exclusions, assess, in_window
from gazesite.report.read import read_inputs
from gazesite.staging import OutputKind, out_problem

log = logging.getLogger(__name__)

#: The file every report folder holds, so a rerun may replace that folder (and no other).
REPORT_MANIFEST = "report.json"
REPORT_OUTPUT = OutputKind("gazesite report", REPORT_MANIFEST, ("format", "participants", "pages"))


@dataclass(frozen=True)
class ReportConfig:
    """Everything ``gazesite report`` was asked to do."""

    inputs: tuple[Path, ...]
    out: Path
    db: Path | None = None
    aoi: Path | None = None
    max_error: float | None = None
    min_face: float | None = None
    pages: Path | None = None
    fixation: FixationSettings = field(default_factory=FixationSettings)

    def validate(self) -> ReportConfig:
        """Return self, or raise ConfigError naming every bad option at once."""
        problems = []
        if not self.inputs and self.db is None:
            problems.append("no input: give sample files (JSON or CSV) and/or --db FILE")
        problem = out_problem(self.out, REPORT_OUTPUT)
        if problem:
            problems.append(problem)
        if self.pages is not None and not Path(self.pages).is_dir():
            problems.append(f"--pages {self.pages}: not a folder (give the built site's folder)")
        if self.max_error is not None and not self.max_error > 0:
            problems.append(f"--max-error {self.max_error:g}: expected a calibration error above 0 (screen fractions)")
        if self.min_face is not None and not 0 <= self.min_face <= 1:
            problems.append(f"--min-face {self.min_face:g}: expected a share from 0 to 1")
        if problems:
            raise ConfigError(problems)
        self.fixation.validate()
        return self


@dataclass
class Report:
    """What the report shows, before it is written."""

    config: ReportConfig
    sessions: list[Session]
    qualities: list[Quality]
    fixations: dict[str, list[Fixation]]
    pages: list[ReportPage]
    aois: list[Aoi]
    aoi_summaries: list[AoiSummary]
    aoi_visits: list[AoiVisit]
    left_out: list[LeftOut] = field(default_factory=list)
    pages_not_drawn: list[str] = field(default_factory=list)  # ids of pages looked at, past MAX_REPORT_PAGES

    @property
    def included(self) -> list[Session]:
        """Sessions of the participants the exclusions kept."""
        kept = {quality.participant for quality in self.qualities if quality.included}
        return [session for session in self.sessions if session.participant in kept]


def analyse(config: ReportConfig) -> Report:
    """Read, check and measure everything the report shows."""
    aois = read_aois(config.aoi) if config.aoi is not None else []
    sessions, left_out = read_inputs(config.inputs, config.db)
    windows = {session.participant: analysis_window(session) for session in sessions}
    # Everything below sees only the samples inside each session's window (quality.py: the calibration pause and
    # the uncalibrated samples before it are not the page's tracking time).
    cut = [in_window(session, windows[session.participant]) for session in sessions]
    sessions = [session for session, _ in cut]
    qualities = [assess(session, windows[session.participant], outside) for session, outside in cut]
    # Quality counts every frame with a face; the pages show only the samples that lie on one (of a bounded few).
    sessions = [on_pages(session) for session in sessions]
    apply_exclusions(qualities, config.max_error, config.min_face)
    for quality in qualities:
        if not quality.included:
            log.info("excluded %s: %s", quality.participant, quality.reason)
    kept = {quality.participant for quality in qualities if quality.included}
    included = [session for session in sessions if session.participant in kept]
    fixations = {session.participant: detect_fixations(session, config.fixation) for session in included}
    starts = {session.participant: first_frames(session, windows[session.participant].start_ms) for session in included}
    summaries, visits = measure(aois, fixations, starts)
    pages, not_drawn = collect_pages(included, config.pages)
    return Report(config, sessions, qualities, fixations, pages, aois, summaries, visits, left_out, not_drawn)


def make_report(config: ReportConfig) -> Report:
    """Analyse the inputs and write the report folder (completely or not at all)."""
    from gazesite.report.html import write_report

    report = analyse(config)
    write_report(report)
    return report
