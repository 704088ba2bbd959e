"""The accuracy bench's report as tables: summaries per renderer and dot count, and the plain-text view."""

from __future__ import annotations

import statistics
from typing import Any


def summarize(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    """Median, worst and mean of one error over people."""
    values = [row[key] for row in rows if row.get(key) == row.get(key)]  # drops NaN
    if not values:
        return {"median": float("nan"), "worst": float("nan"), "mean": float("nan")}
    return {"median": round(statistics.median(values), 4), "worst": round(max(values), 4), "mean": round(statistics.fmean(values), 4)}


def summary_table(report: dict[str, Any]) -> dict[str, Any]:
    """Per renderer and dot count: median, worst and mean before and after, methods chosen, and the peer."""
    out: dict[str, Any] = {}
    for renderer, rows in report["renderers"].items():
        out[renderer] = {}
        for points in report["points"]:
            key = str(points)
            mine = [row["gazesite"][key] for row in rows]
            entry = {
                "before": summarize(mine, "before"),
                "after": summarize(mine, "after"),
                "before_below_centre": sum(1 for r in mine if r["before"] < report["centre"]),
                "halved": sum(1 for r in mine if r["after"] <= r["before"] / 2),
                "methods": dict(
                    sorted({m: sum(1 for r in mine if r["method"] == m) for m in {r["method"] for r in mine}}.items(), key=str)
                ),
            }
            if mine and all(r.get("after_deg") is not None for r in mine):
                entry["after_deg"] = summarize(mine, "after_deg")
            if rows and "webgazer" in rows[0]:
                entry["webgazer"] = summarize([row["webgazer"][key] for row in rows], "after")
            out[renderer][key] = entry
    return out


def format_accuracy(report: dict[str, Any]) -> str:
    """The report as plain-text tables: per person, then medians and worst per renderer and dot count."""
    peer = any("webgazer" in row for rows in report["renderers"].values() for row in rows)
    lines = [
        f"{report['people']} unseen people per renderer, {report['frames_per_dot']} frames per dot, "
        f"{report['held_out_targets']} held-out points x {report['held_out_frames']} frames; mean error in fractions of the screen "
        f"(degrees of visual angle where the renderer knows the geometry)",
        f"screen centre (a tracker that learnt nothing): {report['centre']:.3f}",
    ]
    header = f"{'renderer':<9}{'person':>7}{'dots':>6}{'before':>9}{'after':>9}{'deg before':>12}{'deg after':>11}  {'method':<16}" + (
        f"{'webgazer':>10}" if peer else ""
    )
    lines += ["", header, "-" * len(header)]
    for renderer, rows in report["renderers"].items():
        for row in rows:
            for points in report["points"]:
                mine = row["gazesite"][str(points)]
                line = (
                    f"{renderer:<9}{row['person']:>7}{points:>6}{mine['before']:>9.3f}{mine['after']:>9.3f}"
                    f"{_degrees(mine.get('before_deg')):>12}{_degrees(mine.get('after_deg')):>11}  {mine['method']!s:<16}"
                )
                if peer:
                    line += f"{row['webgazer'][str(points)]['after']:>10.3f}"
                lines.append(line)
    lines += [
        "",
        f"{'renderer':<9}{'dots':>6}{'before (median)':>17}{'< centre':>10}{'after median':>14}{'after worst':>13}"
        f"{'deg median':>12}{'deg worst':>11}{'halved':>8}" + (f"{'webgazer median':>17}{'worst':>8}" if peer else ""),
    ]
    for renderer, table in report["summary"].items():
        for points, entry in table.items():
            degrees = entry.get("after_deg", {})
            line = (
                f"{renderer:<9}{points:>6}{entry['before']['median']:>17.3f}"
                f"{entry['before_below_centre']:>7}/{report['people']:<2}"
                f"{entry['after']['median']:>14.3f}{entry['after']['worst']:>13.3f}"
                f"{_degrees(degrees.get('median')):>12}{_degrees(degrees.get('worst')):>11}"
                f"{entry['halved']:>5}/{report['people']:<2}"
            )
            if "webgazer" in entry:
                line += f"{entry['webgazer']['median']:>17.3f}{entry['webgazer']['worst']:>8.3f}"
            lines.append(line + "  " + ", ".join(f"{m} {n}" for m, n in entry["methods"].items()))
    return "\n".join(lines + _band_table(report))


def _band_table(report: dict[str, Any]) -> list[str]:
    """Where the eye band sat on each person's drawn eyes, for renderers that know the geometry."""
    rows = [(renderer, row) for renderer, people in report["renderers"].items() for row in people if row.get("eye_band")]
    if not rows:
        return []
    lines = [
        "",
        "eye band on the drawn irises (median offset of their midpoint from the band's centre, in band widths and heights;"
        " share of frames with both irises in the band)",
        f"{'renderer':<9}{'person':>7}{'dx':>8}{'dy':>8}{'inside':>8}",
    ]
    for renderer, row in rows:
        band = row["eye_band"]
        lines.append(f"{renderer:<9}{row['person']:>7}{band['dx']:>8.3f}{band['dy']:>8.3f}{band['inside']:>8.2f}")
    return lines


def _degrees(value: float | None) -> str:
    """An angle for the tables, or a dash where the renderer has no geometry."""
    return "-" if value is None else f"{value:.2f}"
