"""Study mode: gaze on a page's content (snapshots of any URL, same-origin local sites) and samples version 2."""

import re

#: How the page shows its target: a cross-origin iframe, a captured snapshot, or a copied local site framed from the page's origin.
MODES = ("frame", "snapshot", "same-origin")
#: The CSV columns of samples version 1, and version 2's after them (so a version 1 reader finds its own in place).
CSV_V1 = (
    "t",
    "x",
    "y",
    "viewport_width",
    "viewport_height",
    "face_x",
    "face_y",
    "face_w",
    "face_h",
    "scroll_x",
    "scroll_y",
    "dpr",
    "source",
)
CSV_V2 = (*CSV_V1, "raw_x", "raw_y", "doc_x", "doc_y", "page", "element")
#: A session id as the page makes it (assets/app/study/session.js) and readers accept it.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Bounds of the samples contract, the same for every reader and for ``gazesite collect``'s door, so that
#: whatever the server stores, the report reads. Sample times are ms since the session started.
MAX_TIME_MS = 24 * 3600 * 1000.0
#: Largest coordinate or size in px anywhere in a sample file.
MAX_PX = 1_000_000.0
#: Longest text field (a page id, an element's CSS path, an image path): a URL's length.
MAX_TEXT = 2048
#: C0 and C1 control characters: never in a text field (the page escapes them; a log line must not carry them).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


#: What is_text accepts, as error messages say it.
TEXT_RULE = f"a string of 1-{MAX_TEXT} characters without control characters"


def is_text(value: object) -> bool:
    """Whether a value is a text field of the samples contract: 1 to MAX_TEXT characters, no control characters."""
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT and CONTROL.search(value) is None


#: The sample export format the page writes (samples version 2, README "Samples"); the page reads its CSV columns from here.
SAMPLE_FORMAT = {"name": "gazesite-samples", "version": 2, "columns": list(CSV_V2)}
