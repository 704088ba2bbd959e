"""The check of a collect batch: its fields, its samples (validate.check_sample) and the session metadata it carries.

A batch is one JSON object (docs: reference/batch.md):

    {"format": "gazesite-batch", "version": 1, "session": "...", "study": "..." | null,
     "sequence": 0, "meta": {...}?, "samples": [{...}, ...]}

Its meta is the page's view of the session document (the same field checks
as a document's), plus small fields of later versions.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from gazesite.bounded import json_type
from gazesite.samples.schema import (
    BATCH_FORMAT,
    BATCH_VERSION,
    DOCUMENT_FIELDS,
    MAX_BATCH_SAMPLES,
    MAX_EXTRA_KEYS,
    MAX_KEY,
    MAX_SEQUENCE,
    MAX_SHORT_TEXT,
    MAX_TIME_MS,
    PARTICIPANT_RULE,
    is_participant_id,
)
from gazesite.samples.validate import (
    HEADER_RULES,
    TIME,
    check_calibration,
    check_extra,
    check_header,
    check_ids,
    check_pages,
    check_sample,
    fail,
)

BATCH_FIELDS = ("format", "version", "session", "study", "sequence", "meta", "samples")
#: Most fields in a batch's meta: the document's, and later versions' small ones.
MAX_META_KEYS = len(DOCUMENT_FIELDS) + MAX_EXTRA_KEYS
#: Most a page's metadata version may be (the page sends 1 or 2).
MAX_META_VERSION = 1000


class CheckedBatch(NamedTuple):
    """A batch that passed every check: its samples as sent, its meta without the copies of session and study."""

    session: str
    study: str | None
    sequence: int
    meta: dict[str, Any] | None
    samples: list[dict[str, Any]]


def check_batch(value: Any) -> CheckedBatch:
    """Check a parsed batch against the format; SamplesError names the first problem."""
    if type(value) is not dict:
        fail(f"batch must be a JSON object, got a JSON {json_type(value)}")
    unknown = sorted(set(value) - set(BATCH_FIELDS))
    if unknown:
        fail(f"batch has unknown field {unknown[0][:MAX_KEY]!r}")
    if value.get("format") != BATCH_FORMAT or type(value.get("version")) is not int or value["version"] != BATCH_VERSION:
        fail(f'batch must have "format": "{BATCH_FORMAT}" and "version": {BATCH_VERSION}')
    session, study = check_ids(value, str)  # a batch names its fields plainly
    sequence = value.get("sequence")
    if type(sequence) is not int or not 0 <= sequence <= MAX_SEQUENCE:
        fail(f"sequence must be an integer from 0 to {MAX_SEQUENCE}")
    samples = value.get("samples")
    if type(samples) is not list or not 1 <= len(samples) <= MAX_BATCH_SAMPLES:
        fail(f"samples must be an array of 1 to {MAX_BATCH_SAMPLES} samples")
    for index, sample in enumerate(samples):
        check_sample(sample, f"sample {index + 1}")
    meta = value.get("meta")
    return CheckedBatch(session, study, sequence, None if meta is None else check_meta(meta, session, study), samples)


def _meta_name(key: str) -> str:
    return f"meta.{key}"


def check_meta(meta: Any, session: str, study: str | None) -> dict[str, Any]:
    """Check a batch's session metadata; return it without the copies of session and study."""
    if type(meta) is not dict:
        fail("meta must be an object")
    if len(meta) > MAX_META_KEYS:
        fail(f"meta must be an object of at most {MAX_META_KEYS} fields")
    for key, value in meta.items():
        if key in HEADER_RULES:
            check_header(key, value, _meta_name)
        elif key == "format":
            if not (type(value) is str and len(value) <= MAX_SHORT_TEXT):
                fail(f"meta.format must be a string of at most {MAX_SHORT_TEXT} characters")
        elif key == "version":
            if not (type(value) is int and 0 <= value <= MAX_META_VERSION):
                fail(f"meta.version must be an integer from 0 to {MAX_META_VERSION}")
        elif key in ("session", "study"):
            if value != (session if key == "session" else study):
                fail(f"meta.{key} must be the batch's {key}")
        elif key == "calibration":
            check_calibration(value, _meta_name)
        elif key == "pages":
            check_pages(value, _meta_name)
        elif key == "participant":
            if value is not None and not is_participant_id(value):
                fail(f"meta.participant must be null or a participant id, {PARTICIPANT_RULE}")
        elif key in ("pageStart", "pageEnd"):
            # On the samples' clock: when the page was first shown after calibration, and when the participant finished.
            if value is not None and not TIME.holds(value):
                fail(f"meta.{key} must be null or a number of ms from 0 to {MAX_TIME_MS:g}")
        else:
            check_extra(key, value, "meta", _meta_name)
    start, end = meta.get("pageStart"), meta.get("pageEnd")
    if start is not None and end is not None and end < start:
        fail("meta.pageEnd must be null or not before meta.pageStart")
    return {key: value for key, value in meta.items() if key not in ("session", "study")}
