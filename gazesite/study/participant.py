"""What a study build (``--collect``) shows participants, and the options that shape it.

A study build shows a study, not a developer tool: consent, a head-position
guide, calibration, the task, then the page with nothing drawn over it, and
a thank-you screen. ``--researcher-view`` keeps the heatmap, the gaze dot and
the control panel (for piloting). Every constant here reaches the page as
``config.participant`` (site/build.py::page_settings).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from markupsafe import Markup

from gazesite.bounded import InputError
from gazesite.collect.page import markdown_problem, read_markdown, render_consent
from gazesite.errors import ConfigError
from gazesite.samples.schema import PARTICIPANT_ID, PARTICIPANT_PARAMS
from gazesite.urls import target_url_problem

#: The longest task file, and the longest --task text (characters): a task is a few sentences, not a document.
MAX_TASK_BYTES = 16 * 1024
MAX_TASK_TEXT = 4000
#: The longest time limit on the page (--seconds): 3 hours, past which a webcam session is no longer one sitting.
MAX_SECONDS = 3 * 3600
#: Redos a participant is offered when a calibration is worse than the model alone; after them the page goes on
#: with the model alone rather than keep a participant at the dots.
MAX_REDOS = 2
#: How long the end screen waits for the last batches to reach the server before redirecting (ms): long enough
#: for a few round trips, short enough that a participant never waits on a dead server (unsent batches stay
#: on the device and the next visit, or the beacon at page close, sends them).
FLUSH_MS = 5000
#: The head-position guide: what the camera picture must show, for ``holdMs`` without a break, before
#: Continue enables. Fractions of the camera frame; brightness is the mean grey level (0-255) of the frame.
#: A face narrower than a quarter of the frame leaves the eye band (96x32 px) a few camera pixels per iris;
#: wider than 3/4 and the face box's margins leave the frame at the slightest movement. A face centre further
#: than 15% of the frame from its centre loses the face box on a turn of the head. Below a mean grey of 60 the
#: Haar cascade misses faces and the eye band is mostly noise (measured on the synthetic faces: 80-185).
HEAD_GUIDE = {
    "minFaceWidth": 0.25,
    "maxFaceWidth": 0.75,
    "maxOffset": 0.15,
    "minBrightness": 60,
    "holdMs": 1000,
}


#: What --seconds accepts, as its errors say it.
SECONDS_RULE = f"expected a whole number of seconds from 1 to {MAX_SECONDS} (3 hours)"


def parse_seconds(text: str) -> int:
    """Parse --seconds as an integer; ConfigError (one line) for anything else. The range is checked with the build's options."""
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise ConfigError([f"--seconds {text!r}: {SECONDS_RULE}"]) from None


#: What the task notice is, as its errors say it.
_TASK = "the task participants read before the page"


def task_text_problem(text: str) -> str | None:
    """Why a --task text cannot be shown (longer than MAX_TASK_TEXT, control characters, empty), or None."""
    if len(text) > MAX_TASK_TEXT:
        return f"is longer than {MAX_TASK_TEXT} characters (put a longer task in --task-file)"
    return markdown_problem(text, _TASK)


def task_file_markdown(path: Path) -> str:
    """Read a --task-file: a regular UTF-8 file (not a symbolic link) of at most 16 KiB; InputError says why not."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise InputError("is a symbolic link (expected a regular Markdown file)")
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})") from None
    return read_markdown(path, MAX_TASK_BYTES, _TASK)


def participant_problems(
    collect: str | None,
    researcher_view: bool,
    finish_url: str | None,
    task: str | None,
    task_file: Path | None,
    seconds: int | None,
) -> list[str]:
    """Every problem with the participant-flow options; each needs a study build (--collect URL)."""
    problems: list[str] = []
    given = [
        name
        for name, value in (
            ("--researcher-view", researcher_view or None),
            ("--finish-url", finish_url),
            ("--task", task),
            ("--task-file", task_file),
            ("--seconds", seconds),
        )
        if value is not None
    ]
    if collect is None:
        problems.extend(f"{name}: only a study build (--collect URL) has a participant flow" for name in given)
    if finish_url is not None and (problem := target_url_problem(finish_url)):
        problems.append(f"--finish-url {finish_url!r}: {problem}")
    if task is not None and task_file is not None:
        problems.append("--task and --task-file: give one of them (the task participants read before the page)")
    if task is not None and (problem := task_text_problem(task)):
        problems.append(f"--task: {problem}")
    if task_file is not None:
        try:
            task_file_markdown(task_file)
        except InputError as exc:
            problems.append(f"--task-file {task_file}: {exc}")
    if seconds is not None and not 1 <= seconds <= MAX_SECONDS:
        problems.append(f"--seconds {seconds}: {SECONDS_RULE}")
    return problems


def task_html(task: str | None, task_file: Path | None) -> Markup | None:
    """The task shown before the page, rendered like the consent notice (escaped text only), or None."""
    if task_file is not None:
        return render_consent(task_file_markdown(task_file))
    return render_consent(task) if task is not None else None


def participant_settings(collect: str | None, researcher_view: bool, finish_url: str | None, seconds: int | None) -> dict[str, Any]:
    """The page settings of the participant flow (config.participant); ``flow`` false shows the researcher view."""
    return {
        "flow": collect is not None and not researcher_view,
        # The id rules of the samples contract (gazesite.samples.schema), so page and readers agree on what is kept.
        "params": list(PARTICIPANT_PARAMS),
        "pattern": PARTICIPANT_ID.pattern,
        "finishUrl": finish_url,
        "seconds": seconds,
        "maxRedos": MAX_REDOS,
        "flushMs": FLUSH_MS,
        "guide": HEAD_GUIDE,
    }
