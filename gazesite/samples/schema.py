"""The samples format's names, fields, limits and text rules, each defined once.

The page writes these (the build sends it ``SAMPLE_FORMAT`` and the participant
rules), ``gazesite collect`` checks them at its door, and every reader checks
them again: one set of bounds, so whatever the server stores, the report and
the public reader read.
"""

from __future__ import annotations

import re

from gazesite.bounded import MIB

# ---------------------------------------------------------------- names and versions

#: The export format the page writes (samples version 2, docs: reference/samples.md); readers take versions 1 and 2.
SAMPLE_FORMAT_NAME = "gazesite-samples"
SAMPLE_VERSION = 2
SAMPLE_VERSIONS = (1, 2)
#: What a consenting page POSTs to ``gazesite collect``: one batch of a session's samples (docs: reference/batch.md).
BATCH_FORMAT = "gazesite-batch"
BATCH_VERSION = 1
#: The ``format`` of the index file ``gazesite collect export`` writes beside the session files: readers of sample
#: files recognise it and skip it.
EXPORT_INDEX_FORMAT = "gazesite-collect-export"

#: How the page shows its target: a cross-origin iframe, a captured snapshot, or a copied local site framed from the page's origin.
MODES = ("frame", "snapshot", "same-origin")

# ---------------------------------------------------------------- fields

#: A sample's fields: version 1's, then the ones version 2 added (absent or null in a version 1 row).
V1_FIELDS = ("t", "x", "y", "viewport", "scroll", "dpr", "face", "source")
V2_FIELDS = ("raw", "doc", "page", "element")
#: What the report needs of every sample; the page always writes the other version 1 fields too, but a batch
#: may leave them out (docs: reference/batch.md), so they are checked only when present.
REQUIRED_FIELDS = ("t", "x", "y", "viewport", "scroll")
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
#: The fields a version 2 document carries beside its samples (version 1 had format, version, target, created, started).
DOCUMENT_FIELDS = (
    "format",
    "version",
    "target",
    "created",
    "started",
    "mode",
    "session",
    "study",
    "screen",
    "calibration",
    "pages",
    "participant",
    "pageStart",
    "pageEnd",
)
PAGE_FIELDS = ("id", "width", "height", "image")
CALIBRATION_FIELDS = ("method", "checkError", "rawError", "points")


# ---------------------------------------------------------------- numbers

#: Sample times are ms since the session started; no webcam session lasts a day.
MAX_TIME_MS = 24 * 3600 * 1000.0
#: Largest coordinate or size in px anywhere in the format (a point, a viewport, a page, a calibration error, an AOI):
#: a thousand 4K screens, far past any real page, small enough that sums and scales never lose precision.
MAX_PX = 1_000_000.0
#: Largest magnitude of any other number (a face box, a device pixel ratio, a later version's field).
MAX_NUMBER = 1e12
#: Most calibration points a summary may count (the page uses 9 to 25).
MAX_CALIBRATION_POINTS = 1000

# ---------------------------------------------------------------- text

#: Longest text field (a page id, an element's CSS path, an image path, the target URL): a URL's length.
MAX_TEXT = 2048
#: Longest ISO time (created, started) and calibration method name: far past "2026-01-01T00:00:00.000Z".
MAX_SHORT_TEXT = 64
#: Longest ``source`` ("model" or "calibrated"; a later page may name others).
MAX_SOURCE = 32
#: C0 and C1 control characters: never in a text field (the page escapes them; a log line must not carry them).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Lone UTF-16 surrogates: valid in a JSON string ("\\ud800"), but no UTF-8 file (a report, a CSV) can hold them.
SURROGATE = re.compile(r"[\ud800-\udfff]")
#: What is_text accepts, as error messages say it.
TEXT_RULE = f"a string of 1-{MAX_TEXT} characters without control characters or lone surrogates"
#: The sample export format as the build sends it to the page (assets/app/output/samples.js reads its CSV columns
#: and the longest text field from here).
SAMPLE_FORMAT = {"name": SAMPLE_FORMAT_NAME, "version": SAMPLE_VERSION, "columns": list(CSV_V2), "maxText": MAX_TEXT}


def is_text(value: object, limit: int = MAX_TEXT) -> bool:
    """Whether a value is a text field: 1 to ``limit`` characters, no control characters or lone surrogates."""
    return isinstance(value, str) and 0 < len(value) <= limit and CONTROL.search(value) is None and SURROGATE.search(value) is None


def short_text_rule(limit: int) -> str:
    """What is_text(value, limit) accepts, as error messages say it."""
    return f"a string of 1-{limit} characters without control characters or lone surrogates"


# ---------------------------------------------------------------- ids

#: A session id as the page makes it (assets/app/study/session.js) and readers accept it.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
SESSION_RULE = "16-64 characters of A-Z, a-z, 0-9, _ and -"
#: Study names (``gazesite build --study`` checks them with this same pattern): safe in file names and URLs.
STUDY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
STUDY_RULE = "1-64 characters of A-Z, a-z, 0-9, _ and -"
#: A participant id from a recruitment platform, as the page keeps it and every reader accepts it (anything else is
#: dropped by the page and refused at the door): Prolific's 24 hex characters, MTurk's worker ids, a lab's own codes.
PARTICIPANT_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
#: The query parameters the page reads a participant id from, the first present one wins: gazesite's own, then
#: the names Prolific (PROLIFIC_PID) and MTurk (workerId) append to a study link.
PARTICIPANT_PARAMS = ("pid", "PROLIFIC_PID", "workerId", "participant")
#: What is_participant_id accepts, as error messages say it.
PARTICIPANT_RULE = "1-128 characters of A-Z, a-z, 0-9 and _ . : @ -"


def is_participant_id(value: object) -> bool:
    """Whether a value is a participant id the samples format accepts."""
    return isinstance(value, str) and PARTICIPANT_ID.fullmatch(value) is not None


# ---------------------------------------------------------------- sizes of files, documents and batches

#: Largest sample file read: the page pretty-prints about 500 bytes a sample (a CSV row takes about 100), so a
#: JSON export of about 130,000 samples (75 minutes at 30 Hz); a longer collected session is read from --db.
MAX_FILE_BYTES = 64 * MIB
#: Most samples in one file or collected session (a CSV of 64 MiB holds about 600,000 rows).
MAX_SAMPLES_PER_SESSION = 400_000
#: Most page entries in one document or batch (a local site has at most 200 pages, at a few widths).
MAX_PAGES = 1000
#: The largest request body the server reads (a page's batch is 10-40 KB).
MAX_BODY_BYTES = 1024 * 1024
#: Deepest nesting of arrays and objects in a batch (a real one reaches 4: batch > meta > pages > page).
MAX_BATCH_DEPTH = 8
#: Most samples in one batch (about a minute of frames at 30 fps).
MAX_BATCH_SAMPLES = 2000
#: Largest batch sequence number (a batch every 2 s for 60 years stays far below).
MAX_SEQUENCE = 1_000_000_000
#: Most samples one session may store: 3 hours at 30 Hz (a page-like sample is ~200 bytes: ~65 MB); below
#: MAX_SAMPLES_PER_SESSION, so every session the server stores is one the report reads.
MAX_SESSION_SAMPLES = 3 * 3600 * 30
#: Fields of a later samples version a sample or meta may carry, so such a page does not break an older server:
#: at most this many, with names this long and small plain values (a string this long, an array of this many numbers).
MAX_EXTRA_KEYS = 32
MAX_KEY = 64
MAX_EXTRA_STRING = 256
MAX_EXTRA_ARRAY = 8

# ---------------------------------------------------------------- page images

#: Largest image file read: an image given as --target, or a page image a report draws on from --pages.
MAX_IMAGE_BYTES = 64 * MIB
#: The tallest snapshot a build keeps, in document px: WebP's own limit. A taller page is cropped to it, with a warning.
MAX_SNAPSHOT_HEIGHT = 16383
#: Widths a snapshot may have, in px (a phone to a 4K screen).
MIN_SNAPSHOT_WIDTH = 320
MAX_SNAPSHOT_WIDTH = 3840
#: Largest canvas an image may declare (width x height), checked from its header before a decoder allocates
#: anything: the largest snapshot a build writes, so every page the build captured can be drawn by the report,
#: and decoding costs at most ~190 MB (3 bytes a pixel).
MAX_IMAGE_PIXELS = MAX_SNAPSHOT_WIDTH * MAX_SNAPSHOT_HEIGHT
