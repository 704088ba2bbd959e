"""Write the report folder: index.html (static, offline, no script), PNGs beside it, CSV tables and report.json.

Everything is written into a staging folder and swapped into place at the
end, so a failed report leaves the previous one as it was. Every value from
the inputs reaches the HTML through jinja2's autoescaping, and file names are
numbers (``page-1``, ``P1``), never ids from the inputs.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import math
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from gazesite import __version__
from gazesite.paths import templates_dir
from gazesite.report.aoi import AoiVisit
from gazesite.report.fixations import FACE_LOST_GAP_MS, RESAMPLE_MS
from gazesite.report.heatmap import (
    HEATMAP_FLOOR,
    HEATMAP_SIGMA_PX,
    LEGEND_AREA_PX,
    draw_gaze_plot,
    draw_heatmap,
    draw_legend,
    frame_weights,
    save_png,
)
from gazesite.report.pages import BLANK_PAGE, ReportPage, load_canvas
from gazesite.report.run import REPORT_MANIFEST, Report
from gazesite.staging import staged_directory

REPORT_TEMPLATE = "report.html.j2"
REPORT_STYLE = "report.css"
REPORT_FORMAT = "gazesite-report"
PARTICIPANT_COLUMNS = (
    "participant", "id", "participant_id", "samples", "samples_outside_window", "window_start_ms", "window_end_ms",
    "window_basis", "duration_s", "sample_rate_hz", "face_share", "calibration_error", "fixations", "included",
    "reason", "sources",
)  # fmt: skip
FIXATION_COLUMNS = ("participant", "id", "participant_id", "page", "onset_ms", "duration_ms", "x", "y", "element")
AOI_COLUMNS = (
    "aoi", "page", "kind", "definition", "participants", "looked", "ttff_median_ms", "ttff_mean_ms",
    "first_fixation_median_ms", "first_fixation_mean_ms", "dwell_total_ms", "dwell_mean_ms", "fixations",
    "revisits_total", "revisits_mean",
)  # fmt: skip
AOI_PARTICIPANT_COLUMNS = (
    "aoi", "participant", "id", "participant_id", "ttff_ms", "first_fixation_ms", "dwell_ms", "fixations", "revisits",
)  # fmt: skip
#: The heatmaps' colour bar, beside the page PNGs.
LEGEND_FILE = "heatmaps/legend.png"
#: Most ids of undrawn pages report.json lists (the rest are counted).
MAX_LISTED_PAGES = 100
#: A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: What a spreadsheet trims before it looks for a formula: spaces, no-break and ideographic ones included.
_SPREADSHEET_SPACES = " \u00a0\u3000\t\r\n"


def write_report(report: Report) -> None:
    """Write the whole report folder for ``report`` into its --out."""
    labels = {quality.participant: f"P{number}" for number, quality in enumerate(report.qualities, start=1)}
    platform = {session.participant: session.participant_id for session in report.sessions}
    with staged_directory(report.config.out, private=True) as staging:  # participants' data, like the database
        (staging / "heatmaps").mkdir()
        (staging / "gazeplots").mkdir()
        pages = [_draw_page(page, report, labels, staging) for page in report.pages]
        if pages:
            save_png(draw_legend(BLANK_PAGE), staging / LEGEND_FILE)
        participants = _participant_rows(report, labels)
        _write_csv(staging / "participants.csv", PARTICIPANT_COLUMNS, participants)
        fixation_rows = [
            (labels[who], who, platform[who], f.page, _num(f.onset_ms), _num(f.duration_ms), _num(f.x), _num(f.y), f.element)
            for who, found in report.fixations.items()
            for f in found
        ]
        _write_csv(staging / "fixations.csv", FIXATION_COLUMNS, fixation_rows)
        aois = [_aoi_row(summary) for summary in report.aoi_summaries]
        if report.aois:
            _write_csv(staging / "aoi.csv", AOI_COLUMNS, [tuple(row[column] for column in AOI_COLUMNS) for row in aois])
            visit_rows = [_visit_row(v, labels, platform) for v in report.aoi_visits]
            _write_csv(staging / "aoi_participants.csv", AOI_PARTICIPANT_COLUMNS, visit_rows)
        settings = _settings(report)
        left_out = [{"session": item.session, "reason": item.reason} for item in report.left_out]
        manifest = {
            "format": REPORT_FORMAT,
            "version": 1,
            "gazesite": __version__,
            "settings": settings,
            "participants": [dict(zip(PARTICIPANT_COLUMNS, row, strict=True)) for row in participants],
            "pages": pages,
            "aois": aois,
            "left_out": left_out,
            "pages_not_drawn": {"count": len(report.pages_not_drawn), "ids": report.pages_not_drawn[:MAX_LISTED_PAGES]},
            "samples_outside_window": sum(quality.outside for quality in report.qualities),
        }
        # Every text was checked on the way in; backslashreplace is the last guard, so no character stops the write.
        (staging / REPORT_MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", errors="backslashreplace"
        )
        html = render_html(
            {
                "settings": settings,
                "participants": [dict(zip(PARTICIPANT_COLUMNS, row, strict=True)) for row in participants],
                "pages": pages,
                "aois": aois,
                "has_aois": bool(report.aois),
                "inputs": sum(len(session.sources) for session in report.sessions),
                "included": sum(quality.included for quality in report.qualities),
                "fixations": sum(len(found) for found in report.fixations.values()),
                "left_out": left_out,
                "not_drawn": len(report.pages_not_drawn),
                "outside": sum(quality.outside for quality in report.qualities),
                "legend": LEGEND_FILE,
            }
        )
        (staging / "index.html").write_text(html, encoding="utf-8", errors="backslashreplace")


def _draw_page(page: ReportPage, report: Report, labels: dict[str, str], staging: Path) -> dict[str, Any]:
    """Draw one page's heatmap and gaze plots; return what the HTML and report.json say about it."""
    canvas = load_canvas(page)
    gap = report.config.fixation.gap_ms
    points, weights, visitors = [], [], []
    for session in report.included:
        on_page = session.samples.page == page.id
        if not on_page.any():
            continue
        visitors.append(session.participant)
        points.append(session.samples.placed()[on_page])
        weights.append(frame_weights(session.samples, gap)[on_page])
    heatmap = f"heatmaps/{page.slug}.png"
    all_points = np.concatenate(points) if points else np.zeros((0, 2))
    all_weights = np.concatenate(weights) if weights else np.zeros(0)
    image, peak = draw_heatmap(canvas, all_points, all_weights, page)
    save_png(image, staging / heatmap)
    plots = []
    for participant in visitors:
        found = [fixation for fixation in report.fixations[participant] if fixation.page == page.id]
        if not any(fixation.placed for fixation in found):
            continue
        plot = f"gazeplots/{page.slug}-{labels[participant]}.png"
        save_png(draw_gaze_plot(canvas, found, page), staging / plot)
        plots.append({"participant": labels[participant], "id": participant, "file": plot, "fixations": len(found)})
    width, height = page.size
    return {
        "id": page.id,
        "width": _num(page.width),
        "height": _num(page.height),
        "background": "image" if page.image is not None else "blank",
        "heatmap": heatmap,
        "png_width": width,
        "png_height": height,
        "participants": len(visitors),
        "peak_ms_per_area": _num(peak),
        "gaze_plots": plots,
    }


def _participant_rows(report: Report, labels: dict[str, str]) -> list[tuple[Any, ...]]:
    rows = []
    by_id = {session.participant: session for session in report.sessions}
    for quality in report.qualities:
        found = report.fixations.get(quality.participant)
        rows.append(
            (
                labels[quality.participant],
                quality.participant,
                by_id[quality.participant].participant_id,
                quality.samples,
                quality.outside,
                _num(quality.window.start_ms),
                _num(quality.window.end_ms),
                quality.window.basis,
                _num(quality.duration_s, 3),
                _num(quality.sample_rate_hz, 2),
                _num(quality.face_share, 4),
                _num(quality.calibration_error, 4),
                len(found) if found is not None else None,
                quality.included,
                quality.reason,
                " ".join(by_id[quality.participant].sources),
            )
        )
    return rows


def _visit_row(v: AoiVisit, labels: dict[str, str], platform: dict[str, str | None]) -> tuple[Any, ...]:
    """A row of aoi_participants.csv (AOI_PARTICIPANT_COLUMNS)."""
    who = v.participant
    return (v.aoi, labels[who], who, platform[who], _num(v.ttff_ms), _num(v.first_fixation_ms), _num(v.dwell_ms), v.fixations, v.revisits)


def _aoi_row(summary: Any) -> dict[str, Any]:
    aoi = summary.aoi
    return {
        "aoi": aoi.name,
        "page": aoi.page,
        "kind": aoi.kind,
        "definition": aoi.definition,
        "participants": summary.participants,
        "looked": summary.looked,
        "ttff_median_ms": _num(summary.ttff_median_ms),
        "ttff_mean_ms": _num(summary.ttff_mean_ms),
        "first_fixation_median_ms": _num(summary.first_fixation_median_ms),
        "first_fixation_mean_ms": _num(summary.first_fixation_mean_ms),
        "dwell_total_ms": _num(summary.dwell_total_ms),
        "dwell_mean_ms": _num(summary.dwell_mean_ms),
        "fixations": summary.fixations,
        "revisits_total": summary.revisits_total,
        "revisits_mean": _num(summary.revisits_mean, 2),
    }


def _settings(report: Report) -> dict[str, Any]:
    config = report.config
    return {
        "algorithm": "I-DT (the events of pymovements.events.idt, computed in linear time)",
        "dispersion_px": config.fixation.dispersion_px,
        "min_fixation_ms": config.fixation.min_duration_ms,
        "face_lost_gap_ms": config.fixation.gap_ms,
        "resample_ms": RESAMPLE_MS,
        "heatmap_sigma_px": HEATMAP_SIGMA_PX,
        "heatmap_floor": HEATMAP_FLOOR,
        "legend_area_px": LEGEND_AREA_PX,
        "max_error": config.max_error,
        "min_face": config.min_face,
        "default_gap_ms": FACE_LOST_GAP_MS,
    }


def _num(value: float | None, digits: int = 1) -> float | None:
    """Round a measure for the tables; None (and NaN: no position) stays empty."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def csv_cell(value: Any) -> Any:
    """A CSV cell: empty for None; in text, each ';'-separated part a spreadsheet would run as a formula gets a leading '.

    Spreadsheets trim leading spaces (a no-break or ideographic space too) and take full-width ＝ ＋ － ＠ for
    their ASCII forms; one whose list separator is ';' splits a cell there, so each part is checked alone.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return ";".join(f"'{part}" if _runs_as_formula(part) else part for part in value.split(";"))
    return value


def _runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet would read text (one cell, or one part of it) as a formula."""
    return text.startswith(("\t", "\r")) or text.lstrip(_SPREADSHEET_SPACES).startswith(_FORMULA_START)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([csv_cell(value) for value in row] for row in rows)


def render_html(context: dict[str, Any]) -> str:
    """Render index.html: autoescaped, undefined names are errors, the stylesheet inline and pinned by the CSP."""
    style = (templates_dir() / REPORT_STYLE).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    csp = f"default-src 'none'; img-src 'self' data:; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    return environment.get_template(REPORT_TEMPLATE).render(**context, style=Markup(style), csp=csp)
