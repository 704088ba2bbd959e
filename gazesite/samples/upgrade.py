"""The one upgrade of samples version 1 to version 2, as the format tells readers to do it (docs: reference/samples.md).

A version 1 row has no ``raw``, ``doc``, ``page`` or ``element``: its unsmoothed
point is its smoothed one, and it lies on no document. The collect server's
stored sessions, the report and the public reader all read rows through
``upgrade_sample``, so a row reads the same wherever it is read.
"""

from __future__ import annotations

from typing import Any

#: What a version 1 document lacks, as a version 2 reader fills it: "frame" was the only mode version 1 knew.
V1_DOCUMENT: dict[str, Any] = {
    "mode": "frame",
    "session": None,
    "study": None,
    "screen": None,
    "calibration": None,
    "pages": [],
    "participant": None,
    "pageStart": None,
    "pageEnd": None,
}


def upgrade_sample(sample: dict[str, Any]) -> dict[str, Any]:
    """A checked sample row with the version 2 fields it lacks filled: ``raw`` = [x, y], ``doc``, ``page``, ``element`` null.

    A null ``raw`` (a page with no separate unsmoothed point) becomes [x, y] too; the row given is left as it was.
    """
    upgraded = dict(sample)
    if upgraded.get("raw") is None:
        upgraded["raw"] = [sample.get("x"), sample.get("y")]  # a row without them fails its check, not here
    for key in ("doc", "page", "element"):
        upgraded.setdefault(key, None)
    return upgraded
