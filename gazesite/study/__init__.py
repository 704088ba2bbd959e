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
#: Lone UTF-16 surrogates: valid in a JSON string ("\\ud800"), but no UTF-8 file (a report, a CSV) can hold them.
SURROGATE = re.compile(r"[\ud800-\udfff]")


#: What is_text accepts, as error messages say it.
TEXT_RULE = f"a string of 1-{MAX_TEXT} characters without control characters or lone surrogates"


def is_text(value: object) -> bool:
    """Whether a value is a text field of the samples contract: 1 to MAX_TEXT characters, no control characters or lone surrogates."""
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT and CONTROL.search(value) is None and SURROGATE.search(value) is None


#: A participant id from a recruitment platform, as the page keeps it and every reader accepts it (anything else is
#: dropped by the page and refused at the door): Prolific's 24 hex characters, MTurk's worker ids, a lab's own codes.
PARTICIPANT_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
#: The query parameters the page reads a participant id from, the first present one wins: gazesite's own, then
#: the names Prolific (PROLIFIC_PID) and MTurk (workerId) append to a study link.
PARTICIPANT_PARAMS = ("pid", "PROLIFIC_PID", "workerId", "participant")
#: What is_participant_id accepts, as error messages say it.
PARTICIPANT_RULE = "1-128 characters of A-Z, a-z, 0-9 and _ . : @ -"


def is_participant_id(value: object) -> bool:
    """Whether a value is a participant id the samples contract accepts."""
    return isinstance(value, str) and PARTICIPANT_ID.fullmatch(value) is not None


#: The ``format`` of the index file ``gazesite collect export`` writes beside the session files: readers of sample
#: files recognise it and skip it.
EXPORT_INDEX_FORMAT = "gazesite-collect-export"


#: The sample export format the page writes (samples version 2, README "Samples"); the page reads its CSV columns from here.
SAMPLE_FORMAT = {"name": "gazesite-samples", "version": 2, "columns": list(CSV_V2), "maxText": MAX_TEXT}
