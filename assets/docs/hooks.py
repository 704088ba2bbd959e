"""MkDocs hooks of the gazesite documentation: tables generated from the code, so no constant is typed twice.

A page asks for a table with a marker on a line of its own; ``on_page_markdown`` replaces it before the
Markdown is rendered:

- ``<!-- pipeline-steps -->``: the frame pipeline step by step, with the values of
  ``gazesite.track.pipeline.PIPELINE``;
- ``<!-- pipeline-constants -->``: every field of ``PIPELINE`` with its value and meaning, plus the
  pipeline version and the crop sizes a model may ask for.

On the command-line reference page, ``on_page_content`` shows an option without a default as "-" where
mkdocs-click 0.9 prints ``None`` or click 8.3's ``Sentinel.UNSET``.

An unknown marker, a field of ``PipelineSpec`` without a meaning below, or a meaning for a field that no
longer exists fails the build, so the page cannot fall behind the code.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"^<!-- (pipeline-[a-z-]+) -->$", re.MULTILINE)

#: What each field of PipelineSpec means, in the order of the steps.
MEANINGS = {
    "cascade_file": "the Haar cascade, from OpenCV's `cv2.data` (the page gets a copy in `cascade/`)",
    "scale_factor": "`detectMultiScale` scaleFactor: the step between the cascade's scales",
    "min_neighbors": "`detectMultiScale` minNeighbors",
    "detect_flags": "`detectMultiScale` flags",
    "min_face_size": "`detectMultiScale` minSize, px on each side: the smallest face searched",
    "crop_size": "the crop's side in px (a model of your own may ask for 16 to 256)",
    "channels": "the model's input channels: 1, or 3 (the grayscale crop in every channel)",
    "clahe_clip_limit": "CLAHE clip limit, after `equalizeHist`",
    "clahe_tile_grid": "CLAHE tiles per side",
    "pixel_scale": "model input = crop / this",
    "camera_width": "the frame's width in px: the page asks the camera for it and scales its frames to it",
    "camera_height": "the frame's height in px, likewise",
    "track_full_search_every": "live tracking: search the whole frame again every this many frames (and as soon as the face is lost)",
    "track_margin": "live tracking: the search region is the last face box grown by this fraction of its width on every side",
    "track_min_scale": "live tracking: smallest face searched, as a fraction of the last face's width",
    "track_max_scale": "live tracking: largest face searched, as a multiple of the last face's width",
    "eyes_left": "eye band: left edge, fraction of the face box's width",
    "eyes_right": "eye band: right edge, fraction of the face box's width",
    "eyes_top": "eye band: top edge, fraction of the face box's height",
    "eyes_bottom": "eye band: bottom edge, fraction of the face box's height",
    "eyes_width": "eye band: width in band px, before the margins",
    "eyes_height": "eye band: height in band px, before the margins",
    "eyes_margin_x": "eye band: margin left and right, band px (room for registration)",
    "eyes_margin_y": "eye band: margin above and below, band px",
}


def _pipeline() -> tuple[Any, Any]:
    try:
        from gazesite.track import pipeline
    except ImportError as error:  # the docs are built from the checkout's virtualenv (make docs)
        raise PluginError(f"the pipeline constants page needs gazesite importable ({error}); run: make docs") from error
    return pipeline, pipeline.PIPELINE


def _value(value: Any) -> str:
    return f"`{value}`" if isinstance(value, str) else repr(value)


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def pipeline_steps() -> str:
    """The steps the page and Python run on every frame, with PIPELINE's values."""
    _, spec = _pipeline()
    band_w = spec.eyes_width + 2 * spec.eyes_margin_x
    band_h = spec.eyes_height + 2 * spec.eyes_margin_y
    rows = [
        ("camera", f"{spec.camera_width}x{spec.camera_height} RGBA frames (the page scales the camera's frames to it)"),
        ("grayscale", "`COLOR_RGBA2GRAY`"),
        ("cascade", f"`{spec.cascade_file}` (from `cv2.data`)"),
        (
            "`detectMultiScale`",
            f"scaleFactor {spec.scale_factor}, minNeighbors {spec.min_neighbors}, flags {spec.detect_flags}, "
            f"minSize {spec.min_face_size}x{spec.min_face_size}",
        ),
        ("face choice", "largest area; ties by smaller y, then smaller x"),
        ("crop", f"gray ROI, resized to {spec.crop_size}x{spec.crop_size} with `INTER_AREA`"),
        ("contrast", f"`equalizeHist`, then CLAHE clip {spec.clahe_clip_limit:g}, tiles {spec.clahe_tile_grid}x{spec.clahe_tile_grid}"),
        (
            "model input",
            f"float32 crop / {spec.pixel_scale:g}, shape `[N, {spec.crop_size}, {spec.crop_size}, {spec.channels}]`",
        ),
        (
            "eye band (calibration)",
            f"face box columns {_percent(spec.eyes_left)}-{_percent(spec.eyes_right)}, rows "
            f"{_percent(spec.eyes_top)}-{_percent(spec.eyes_bottom)} ({spec.eyes_width}x{spec.eyes_height} band px), plus a margin of "
            f"{spec.eyes_margin_x}x{spec.eyes_margin_y} band pixels, cut from the gray frame and resized to {band_w}x{band_h} "
            "with `INTER_AREA`",
        ),
        (
            "live tracking",
            f"near the last face box (grown by {spec.track_margin:g} of its width per side), faces "
            f"{spec.track_min_scale:g}-{spec.track_max_scale:g} times its width; the whole frame every "
            f"{spec.track_full_search_every} frames or as soon as the face is lost",
        ),
    ]
    lines = ["| step | what it does |", "| --- | --- |", *(f"| {step} | {what} |" for step, what in rows)]
    return "\n".join(lines)


def pipeline_constants() -> str:
    """Every field of PIPELINE: name, value, meaning; then the version and the crop-size range."""
    module, spec = _pipeline()
    names = [field.name for field in fields(spec)]
    undocumented = [name for name in names if name not in MEANINGS]
    stale = [name for name in MEANINGS if name not in names]
    if undocumented or stale:
        problems = []
        if undocumented:
            problems.append(f"PipelineSpec fields without a meaning in assets/docs/hooks.py: {', '.join(undocumented)}")
        if stale:
            problems.append(f"meanings in assets/docs/hooks.py for fields PipelineSpec no longer has: {', '.join(stale)}")
        raise PluginError("; ".join(problems))
    lines = ["| constant | value | meaning |", "| --- | ---: | --- |"]
    lines += [f"| `{name}` | {_value(getattr(spec, name))} | {MEANINGS[name]} |" for name in names]
    low, high = module.CROP_SIZE_RANGE
    lines += [
        "",
        f"Pipeline version: **{module.PIPELINE_VERSION}** (`PIPELINE_VERSION`, bumped whenever a change to the steps or "
        f"constants changes the crops). A model of your own may ask for crops of {low} to {high} px (`CROP_SIZE_RANGE`).",
    ]
    return "\n".join(lines)


GENERATORS = {"pipeline-steps": pipeline_steps, "pipeline-constants": pipeline_constants}


#: Pages whose Markdown holds a ``::: mkdocs-click`` block (their HTML gets the defaults fixed, below).
CLICK_PAGES: set[str] = set()
#: A default cell mkdocs-click 0.9 fills for an option without a default: ``None``, or click 8.3's ``Sentinel.UNSET``.
NO_DEFAULT = re.compile(r"<td>(?:None|<code>Sentinel\.UNSET</code>)</td>")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace every marker with its generated table; an unknown marker fails the build."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise PluginError(f"{page.file.src_uri}: unknown marker <!-- {name} --> (known: {', '.join(sorted(GENERATORS))})")
        return GENERATORS[name]()

    if "::: mkdocs-click" in markdown:
        CLICK_PAGES.add(page.file.src_uri)
    return MARKER.sub(replace, markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """On the command-line reference, show an option without a default as "-" (mkdocs-click prints click's internals)."""
    if page.file.src_uri not in CLICK_PAGES:
        return html
    return NO_DEFAULT.sub("<td>-</td>", html)
