"""The batch a consenting page POSTs to ``gazesite collect``: the server's limits, parsing, and the stored form.

A batch is one JSON object (docs: reference/batch.md); its format and
every check of it live in ``gazesite.samples`` (``batch.check_batch``), the
same checks every reader runs, so whatever the server stores, the report
reads. Here: the body's bounds, the canonical JSON the server stores and the
digest a retry is recognised by, and the server's own limits; the page
receives the ones it needs through the build's page settings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gazesite.bounded import InputError, parse_json
from gazesite.samples.batch import check_batch
from gazesite.samples.schema import (
    BATCH_FORMAT,
    BATCH_VERSION,
    MAX_BATCH_DEPTH,
    MAX_BATCH_SAMPLES,
    MAX_BODY_BYTES,
    MAX_EXTRA_ARRAY,
    MAX_EXTRA_KEYS,
    MAX_SESSION_SAMPLES,
    STUDY_PATTERN,
)
from gazesite.samples.validate import SamplesError

#: Names other modules import from here; the format's own are defined in gazesite.samples.schema.
__all__ = [
    "BATCH_FORMAT",
    "BATCH_VERSION",
    "DEFAULT_BURST",
    "DEFAULT_MAX_DB_BYTES",
    "DEFAULT_RATE",
    "MAX_BODY_BYTES",
    "MAX_EXTRA_ARRAY",
    "MAX_EXTRA_KEYS",
    "MAX_SAMPLES",
    "MAX_SESSION_SAMPLES",
    "QUOTA_OVERDRAFT",
    "STUDY_PATTERN",
    "Batch",
    "BatchError",
    "canonical",
    "parse_batch",
    "validate_batch",
]

#: Most samples in one batch.
MAX_SAMPLES = MAX_BATCH_SAMPLES
#: The server's rate limit per client address: requests per second on average, and at once. A page sends
#: a batch every 2 s, so the default lets 20 participants share one address (a lab behind one NAT).
DEFAULT_RATE = 10.0
DEFAULT_BURST = 40
#: The server's default storage quota (``--max-db-bytes``): the database and its WAL together.
DEFAULT_MAX_DB_BYTES = 10 * 1024**3
#: Past the quota, sessions already stored may keep writing until the database is this much larger than it
#: (so a participant in mid-session finishes); then every batch is refused.
QUOTA_OVERDRAFT = 0.1


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
        value = parse_json(text, max_depth=MAX_BATCH_DEPTH)
    except InputError as exc:
        raise BatchError(f"body {exc}") from None
    return validate_batch(value)


def validate_batch(value: Any) -> Batch:
    """Check a parsed batch against the format; raise BatchError naming the first problem."""
    try:
        checked = check_batch(value)
    except SamplesError as exc:
        raise BatchError(exc.message) from None
    samples, study, meta = checked.samples, checked.study, checked.meta
    # Stored as sent (key order kept, so an export reads like the page's); the digest ignores key order.
    samples_json = _array(samples, _COMPACT)
    meta_json = None if meta is None else json.dumps(meta, separators=(",", ":"), allow_nan=False)
    # canonical([study, meta, samples]), written out so the samples are encoded one at a time.
    digest = hashlib.sha256(f"[{canonical(study)},{canonical(meta)},{_array(samples, _CANONICAL)}]".encode()).hexdigest()
    return Batch(checked.session, study, checked.sequence, meta, samples, samples_json, meta_json, digest)
