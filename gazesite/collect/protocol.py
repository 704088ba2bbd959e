"""The batch a consenting page POSTs to ``gazesite collect``, its limits, and its validation.

A batch is one JSON object (README, "Collecting sessions"):

    {"format": "gazesite-batch", "version": 1, "session": "...", "study": "..." | null,
     "sequence": 0, "meta": {...}?, "samples": [{...}, ...]}

Every limit is defined here once; the page receives the ones it needs
through the build's page settings. Validation never trusts the input: sizes,
depth, types, lengths and number ranges are all checked, and a refusal is
one line that names the field and what is expected.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from gazesite.bounded import InputError, json_type, parse_json
from gazesite.study import MAX_PX, MAX_TIME_MS, MODES, PARTICIPANT_RULE, SESSION_ID, TEXT_RULE, is_participant_id, is_text

BATCH_FORMAT = "gazesite-batch"
BATCH_VERSION = 1
#: The largest request body the server reads (a page's batch is 10-40 KB).
MAX_BODY_BYTES = 1024 * 1024
#: Deepest nesting of arrays and objects in a batch (a real one reaches 4: batch > meta > pages > page).
MAX_DEPTH = 8
#: Most samples in one batch (about a minute of frames at 30 fps).
MAX_SAMPLES = 2000
#: Largest batch sequence number (a batch every 2 s for 60 years stays far below).
MAX_SEQUENCE = 1_000_000_000
#: Largest magnitude of any number: times in ms, pixels, sizes.
MAX_NUMBER = 1e12
#: The server's rate limit per client address: requests per second on average, and at once. A page sends
#: a batch every 2 s, so the default lets 20 participants share one address (a lab behind one NAT).
DEFAULT_RATE = 10.0
DEFAULT_BURST = 40
#: Most samples one session may store: 3 hours at 30 Hz (a page-like sample is ~200 bytes: ~65 MB).
MAX_SESSION_SAMPLES = 3 * 3600 * 30
#: The server's default storage quota (``--max-db-bytes``): the database and its WAL together.
DEFAULT_MAX_DB_BYTES = 10 * 1024**3
#: Past the quota, sessions already stored may keep writing until the database is this much larger than it
#: (so a participant in mid-session finishes); then every batch is refused.
QUOTA_OVERDRAFT = 0.1
#: Session ids, as samples v2 defines them.
SESSION_PATTERN = SESSION_ID
#: Study names (``gazesite build --study`` checks them with this same pattern): safe in file names and URLs.
STUDY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_URL = 2048
MAX_KEY = 64
MAX_EXTRA_STRING = 256
MAX_EXTRA_KEYS = 32
MAX_EXTRA_ARRAY = 8
MAX_PAGES = 1000


class BatchError(ValueError):
    """A batch the server refuses; the message is the one-line reason sent back."""


@dataclass(frozen=True)
class Batch:
    """A validated batch, with its samples and meta as canonical JSON and a digest for retry checks."""

    session: str
    study: str | None
    sequence: int
    meta: dict[str, Any] | None
    samples: list[dict[str, Any]]
    samples_json: str
    meta_json: str | None
    digest: str


def canonical(value: Any) -> str:
    """JSON text that is the same for equal values (sorted keys, no spaces)."""
    # ASCII: a lone surrogate ("\\ud800" is valid JSON) stays an escape instead of failing to encode.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


_COMPACT = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)


def _array(items: list[Any], encoder: json.JSONEncoder) -> str:
    """``encoder.encode(items)``, one item at a time: the same text."""
    # The server parses on a worker thread; one C call over a 1 MiB batch would hold the GIL (and stop the
    # event loop) for ~50 ms, while between items the loop may run.
    return "[" + ",".join(encoder.encode(item) for item in items) + "]"


def parse_batch(body: bytes) -> Batch:
    """Parse and validate a request body; raise BatchError with the reason."""
    if len(body) > MAX_BODY_BYTES:
        raise BatchError(f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BatchError("body is not UTF-8 text") from None
    try:
        value = parse_json(text, max_depth=MAX_DEPTH)
    except InputError as exc:
        raise BatchError(f"body {exc}") from None
    return validate_batch(value)


def validate_batch(value: Any) -> Batch:
    """Check a parsed batch against the schema; raise BatchError naming the first problem."""
    if not isinstance(value, dict):
        raise BatchError(f"batch must be a JSON object, got a JSON {json_type(value)}")
    unknown = sorted(set(value) - {"format", "version", "session", "study", "sequence", "meta", "samples"})
    if unknown:
        raise BatchError(f"batch has unknown field {unknown[0][:MAX_KEY]!r}")
    if value.get("format") != BATCH_FORMAT or value.get("version") != BATCH_VERSION:
        raise BatchError(f'batch must have "format": "{BATCH_FORMAT}" and "version": {BATCH_VERSION}')
    session = value.get("session")
    if not isinstance(session, str) or not SESSION_PATTERN.fullmatch(session):
        raise BatchError("session must be 16-64 characters of A-Z, a-z, 0-9, '_' and '-'")
    study = value.get("study")
    if study is not None and not (isinstance(study, str) and STUDY_PATTERN.fullmatch(study)):
        raise BatchError("study must be null or 1-64 characters of A-Z, a-z, 0-9, '_' and '-'")
    sequence = value.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 0 <= sequence <= MAX_SEQUENCE:
        raise BatchError(f"sequence must be an integer from 0 to {MAX_SEQUENCE}")
    samples = value.get("samples")
    if not isinstance(samples, list) or not 1 <= len(samples) <= MAX_SAMPLES:
        raise BatchError(f"samples must be an array of 1 to {MAX_SAMPLES} samples")
    for index, sample in enumerate(samples):
        _check_sample(sample, f"samples[{index}]")
    meta = value.get("meta")
    if meta is not None:
        meta = _check_meta(meta, session, study)
    # Stored as sent (key order kept, so an export reads like the page's); the digest ignores key order.
    samples_json = _array(samples, _COMPACT)
    meta_json = None if meta is None else json.dumps(meta, separators=(",", ":"), allow_nan=False)
    # canonical([study, meta, samples]), written out so the samples are encoded one at a time.
    digest = hashlib.sha256(f"[{canonical(study)},{canonical(meta)},{_array(samples, _CANONICAL)}]".encode()).hexdigest()
    return Batch(session, study, sequence, meta, samples, samples_json, meta_json, digest)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and abs(value) <= MAX_NUMBER


def _need(ok: bool, where: str, expected: str) -> None:
    if not ok:
        raise BatchError(f"{where} must be {expected}")


def _numbers(value: Any, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(_is_number(v) for v in value)


def _short_string(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _px(value: Any, low: float = -MAX_PX) -> bool:
    return _is_number(value) and low <= value <= MAX_PX


def _pair(value: Any, low: float = -MAX_PX) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_px(v, low) for v in value)


# The samples contract's bounds (gazesite.study) hold at the door, so every stored session is one the report reads.
_COORDINATE = f"a number from {-MAX_PX:g} to {MAX_PX:g}"
_POINT = f"[x, y], numbers from {-MAX_PX:g} to {MAX_PX:g}"
_SIZE = f"[width, height], numbers from 0 to {MAX_PX:g}"
_TEXT = f"null or {TEXT_RULE}"
_TIME = f"a number of ms from 0 to {MAX_TIME_MS:g}"


def _time(value: Any) -> bool:
    return _is_number(value) and 0 <= value <= MAX_TIME_MS


#: Samples v1 and v2 fields: name -> (check, what is expected).
_SAMPLE_FIELDS: dict[str, tuple[Any, str]] = {
    "t": (_time, _TIME),
    "x": (_px, _COORDINATE),
    "y": (_px, _COORDINATE),
    "viewport": (lambda v: _pair(v, low=0), _SIZE),
    "scroll": (_pair, _POINT),
    "dpr": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "face": (lambda v: _numbers(v, 4), "[x, y, w, h]"),
    "source": (lambda v: _short_string(v, 32), "a string of at most 32 characters"),
    "raw": (lambda v: v is None or _pair(v), f"null or {_POINT}"),
    "doc": (lambda v: v is None or _pair(v), f"null or {_POINT}"),
    "page": (lambda v: v is None or is_text(v), _TEXT),
    "element": (lambda v: v is None or is_text(v), _TEXT),
}
#: What the report needs of every sample (the page always sends them).
_REQUIRED_SAMPLE_FIELDS = ("t", "x", "y", "viewport", "scroll")


def _check_extra(key: str, value: Any, where: str) -> None:
    """A field the schema does not name (a later samples version): a short key and a small plain value."""
    _need(len(key) <= MAX_KEY, f"{where} field names", f"at most {MAX_KEY} characters")
    plain = (
        value is None
        or isinstance(value, bool)
        or _is_number(value)
        or _short_string(value, MAX_EXTRA_STRING)
        or (isinstance(value, list) and len(value) <= MAX_EXTRA_ARRAY and all(_is_number(v) for v in value))
    )
    _need(
        plain,
        f"{where}.{key}",
        f"null, a boolean, a number, a string of at most {MAX_EXTRA_STRING} characters or a short array of numbers",
    )


def _check_sample(sample: Any, where: str) -> None:
    _need(isinstance(sample, dict), where, "an object")
    _need(
        len(sample) <= len(_SAMPLE_FIELDS) + MAX_EXTRA_KEYS,
        where,
        f"an object of at most {len(_SAMPLE_FIELDS) + MAX_EXTRA_KEYS} fields",
    )
    for name in _REQUIRED_SAMPLE_FIELDS:
        _need(name in sample, f"{where}.{name}", "present")
    for key, value in sample.items():
        if key in _SAMPLE_FIELDS:
            check, expected = _SAMPLE_FIELDS[key]
            _need(check(value), f"{where}.{key}", expected)
        else:
            _check_extra(key, value, where)


def _check_page(page: Any, where: str) -> None:
    _need(
        isinstance(page, dict) and set(page) <= {"id", "width", "height", "image"},
        where,
        "an object of id, width, height, image",
    )
    _need(is_text(page.get("id")), f"{where}.id", TEXT_RULE)
    for key in ("width", "height"):
        _need(page.get(key) is None or _px(page[key], low=0), f"{where}.{key}", f"null or a number from 0 to {MAX_PX:g}")
    _need(page.get("image") is None or is_text(page["image"]), f"{where}.image", _TEXT)


def _check_calibration(value: Any, where: str) -> None:
    if value is None:
        return
    _need(isinstance(value, dict), where, "null or an object")
    _need(value.get("method") is None or _short_string(value["method"], 64), f"{where}.method", "null or a short string")
    for key in ("checkError", "rawError"):
        _need(value.get(key) is None or _px(value[key], low=0), f"{where}.{key}", f"null or a number from 0 to {MAX_PX:g}")
    _need(
        value.get("points") is None or (_is_int(value["points"]) and 0 <= value["points"] <= 1000),
        f"{where}.points",
        "null or a count",
    )
    _need(len(value) <= 4 + MAX_EXTRA_KEYS, where, "a small object")
    for key, item in value.items():
        if key not in ("method", "checkError", "rawError", "points"):
            _check_extra(key, item, where)


_META_FIELDS: dict[str, tuple[Any, str]] = {
    "format": (lambda v: _short_string(v, 64), "a short string"),
    "version": (lambda v: _is_int(v) and 0 <= v <= 1000, "a small integer"),
    "target": (lambda v: v is None or _short_string(v, MAX_URL), f"null or a URL of at most {MAX_URL} characters"),
    "created": (lambda v: v is None or _short_string(v, 64), "null or an ISO time"),
    "started": (lambda v: v is None or _short_string(v, 64), "null or an ISO time"),
    "mode": (lambda v: v in MODES, f"one of {', '.join(MODES)}"),
    "screen": (lambda v: v is None or _pair(v, low=0), f"null or {_SIZE}"),
    "participant": (lambda v: v is None or is_participant_id(v), f"null or a participant id, {PARTICIPANT_RULE}"),
    # On the samples' clock: when the page was first shown after calibration, and when the participant finished.
    "pageStart": (lambda v: v is None or _time(v), f"null or {_TIME}"),
    "pageEnd": (lambda v: v is None or _time(v), f"null or {_TIME}"),
}


def _check_meta(meta: Any, session: str, study: str | None) -> dict[str, Any]:
    """Validate the session's metadata; return it without the copies of session and study."""
    _need(isinstance(meta, dict), "meta", "an object")
    _need(len(meta) <= len(_META_FIELDS) + 4 + MAX_EXTRA_KEYS, "meta", "a small object")
    for key, value in meta.items():
        if key in _META_FIELDS:
            check, expected = _META_FIELDS[key]
            _need(check(value), f"meta.{key}", expected)
        elif key == "session":
            _need(value == session, "meta.session", "the batch's session")
        elif key == "study":
            _need(value == study, "meta.study", "the batch's study")
        elif key == "calibration":
            _check_calibration(value, "meta.calibration")
        elif key == "pages":
            _need(
                isinstance(value, list) and len(value) <= MAX_PAGES,
                "meta.pages",
                f"an array of at most {MAX_PAGES} pages",
            )
            for index, page in enumerate(value):
                _check_page(page, f"meta.pages[{index}]")
        else:
            _check_extra(key, value, "meta")
    start, end = meta.get("pageStart"), meta.get("pageEnd")
    _need(start is None or end is None or end >= start, "meta.pageEnd", "null or not before meta.pageStart")
    return {key: value for key, value in meta.items() if key not in ("session", "study")}
