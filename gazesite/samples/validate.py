"""The one check of the samples format: a sample row, a session or export document, and (batch.py) a collect batch.

Every door runs these same checks, so a row the collect server stores is one
the report and the public reader read, and a bad row gets the same message
everywhere: one line naming the input, the sample (or CSV line), the field
and what is expected. Inputs are hostile: types are exact (a boolean is not a
number), numbers bounded, texts free of control characters and lone surrogates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from gazesite.bounded import json_type
from gazesite.errors import GazesiteError
from gazesite.samples import schema
from gazesite.samples.schema import (
    CALIBRATION_FIELDS,
    EXPORT_INDEX_FORMAT,
    MAX_CALIBRATION_POINTS,
    MAX_EXTRA_ARRAY,
    MAX_EXTRA_KEYS,
    MAX_EXTRA_STRING,
    MAX_KEY,
    MAX_NUMBER,
    MAX_PAGES,
    MAX_PX,
    MAX_SHORT_TEXT,
    MAX_SOURCE,
    MAX_TIME_MS,
    MODES,
    PAGE_FIELDS,
    PARTICIPANT_RULE,
    REQUIRED_FIELDS,
    SAMPLE_FORMAT_NAME,
    SAMPLE_VERSIONS,
    SESSION_ID,
    SESSION_RULE,
    STUDY_PATTERN,
    STUDY_RULE,
    TEXT_RULE,
    is_participant_id,
    is_text,
    short_text_rule,
)
from gazesite.samples.upgrade import V1_DOCUMENT, upgrade_sample


class SamplesError(GazesiteError):
    """Something that is not in the samples format; the message is one line: the input, the field, what is expected."""


class ExportIndexError(SamplesError):
    """The index ``gazesite collect export`` writes beside the session files: not a sample file, and readers skip it."""


def fail(message: str) -> NoReturn:
    """Refuse the input being checked."""
    raise SamplesError(message)


# ---------------------------------------------------------------- numbers


Check = Callable[[Any], bool]
#: JSON numbers: a bool is an int in Python, but never a coordinate.
_NUMBER_TYPES = (int, float)


def _number(low: float, high: float, above_low: bool = False) -> Check:
    """The check that a value is a JSON number from ``low`` to ``high``; NaN and infinities fail every bound."""
    # A closure over its bounds: run once per field of every sample, so no attribute look-ups.
    if above_low:
        return lambda value: type(value) in _NUMBER_TYPES and low < value <= high
    return lambda value: type(value) in _NUMBER_TYPES and low <= value <= high


class Range:
    """The numbers a field (or each item of it) may hold, its check (``holds``), and how messages say it."""

    __slots__ = ("above_low", "high", "holds", "low", "unit")

    def __init__(self, low: float, high: float, unit: str = "", above_low: bool = False) -> None:
        self.low, self.high, self.unit, self.above_low = low, high, unit, above_low  # above_low: low itself is excluded
        self.holds = _number(low, high, above_low)

    def text(self) -> str:
        """The range as messages say it: "a finite number from 0 to 8.64e+07 ms"."""
        if self.above_low:
            return f"a finite number above {self.low:g}, at most {self.high:g}{self.unit}"
        return f"a finite number from {self.low:g} to {self.high:g}{self.unit}"


TIME = Range(0.0, MAX_TIME_MS, " ms")
COORDINATE = Range(-MAX_PX, MAX_PX)
SIZE = Range(0.0, MAX_PX)
ANY_NUMBER = Range(-MAX_NUMBER, MAX_NUMBER)
#: A device pixel ratio of 0 means nothing.
DPR = Range(0.0, MAX_NUMBER, above_low=True)
#: The number each numeric sample field holds (each item of a list field); the CSV reader checks its cells by these.
FIELD_RANGES = {
    "t": TIME,
    "x": COORDINATE,
    "y": COORDINATE,
    "viewport": SIZE,
    "scroll": COORDINATE,
    "dpr": DPR,
    "face": ANY_NUMBER,
    "raw": COORDINATE,
    "doc": COORDINATE,
}


def _pair(bounds: Range) -> Check:
    """The check that a value is [a, b], two numbers in ``bounds``."""
    number = bounds.holds
    return lambda value: type(value) is list and len(value) == 2 and number(value[0]) and number(value[1])


def _numbers(count: int, bounds: Range) -> Check:
    """The check that a value is a list of ``count`` numbers in ``bounds``."""
    number = bounds.holds
    return lambda value: type(value) is list and len(value) == count and all(number(item) for item in value)


def _pair_text(shape: str, bounds: Range) -> str:
    return f"{shape}, two finite numbers from {bounds.low:g} to {bounds.high:g}"


def _nullable(check: Check) -> Check:
    return lambda value: value is None or check(value)


# ---------------------------------------------------------------- a sample row

#: Each sample field: its check, and what messages say is expected.
SAMPLE_RULES: dict[str, tuple[Check, str]] = {
    "t": (TIME.holds, TIME.text()),
    "x": (COORDINATE.holds, COORDINATE.text()),
    "y": (COORDINATE.holds, COORDINATE.text()),
    "viewport": (_pair(SIZE), _pair_text("[width, height]", SIZE)),
    "scroll": (_pair(COORDINATE), _pair_text("[x, y]", COORDINATE)),
    "dpr": (DPR.holds, DPR.text()),
    "face": (_numbers(4, ANY_NUMBER), f"[x, y, width, height], four finite numbers from {-MAX_NUMBER:g} to {MAX_NUMBER:g}"),
    "source": (lambda v: type(v) is str and len(v) <= MAX_SOURCE, f"a string of at most {MAX_SOURCE} characters"),
    # null raw: the page had no separate unsmoothed point; the upgrade fills in the smoothed one.
    "raw": (_nullable(_pair(COORDINATE)), "null or " + _pair_text("[x, y]", COORDINATE)),
    "doc": (_nullable(_pair(COORDINATE)), "null or " + _pair_text("[x, y]", COORDINATE)),
    "page": (_nullable(is_text), f"null or {TEXT_RULE}"),
    "element": (_nullable(is_text), f"null or {TEXT_RULE}"),
}
MAX_SAMPLE_KEYS = len(SAMPLE_RULES) + MAX_EXTRA_KEYS
_EXTRA = f"null, a boolean, a number, a string of at most {MAX_EXTRA_STRING} characters or a short array of numbers"


def _plain(value: Any) -> bool:
    """A later version's value small enough to store unread: null, a boolean, a number, a short string, a few numbers."""
    kind = type(value)
    if kind is list:
        return len(value) <= MAX_EXTRA_ARRAY and all(ANY_NUMBER.holds(item) for item in value)
    return value is None or kind is bool or ANY_NUMBER.holds(value) or (kind is str and len(value) <= MAX_EXTRA_STRING)


def check_extra(key: str, value: Any, container: str, name: Callable[[str], str]) -> None:
    """A field the format does not name (a later samples version): a short name and a small plain value."""
    if len(key) > MAX_KEY:
        fail(f"{container} field names must be at most {MAX_KEY} characters")
    if not _plain(value):
        fail(f"{name(key)} must be {_EXTRA}")


_SAMPLE_CHECKS = {key: check for key, (check, _) in SAMPLE_RULES.items()}
_REQUIRED = frozenset(REQUIRED_FIELDS)


def check_sample(sample: Any, where: str, quoted: bool = True) -> None:
    """Check one sample row (version 1 or 2); ``where`` names it ("a.json: sample 3"), ``quoted`` writes field names 'x'."""
    if type(sample) is not dict:
        fail(f"{where}: expected an object, got a JSON {json_type(sample)}")
    if len(sample) > MAX_SAMPLE_KEYS:
        fail(f"{where}: expected an object of at most {MAX_SAMPLE_KEYS} fields, got {len(sample)}")
    if not sample.keys() >= _REQUIRED:
        missing = next(key for key in REQUIRED_FIELDS if key not in sample)
        fail(f"{where}: {_name(missing, quoted)} is missing (expected {SAMPLE_RULES[missing][1]})")
    for key, value in sample.items():
        check = _SAMPLE_CHECKS.get(key)
        if check is None:
            check_extra(key, value, where, lambda extra: f"{where}: {extra!r}")
        elif not check(value):
            fail(f"{where}: {_name(key, quoted)} must be {SAMPLE_RULES[key][1]}")


def _name(key: str, quoted: bool) -> str:
    return f"'{key}'" if quoted else key


# ---------------------------------------------------------------- a document's fields (shared with a batch's meta)

_ISO_TIME = f"null or an ISO time, {short_text_rule(MAX_SHORT_TEXT)}"
#: Document fields a batch's meta carries too, checked alike: name -> (check, what is expected).
HEADER_RULES: dict[str, tuple[Check, str]] = {
    "target": (_nullable(is_text), f"null or {TEXT_RULE}"),
    "created": (_nullable(lambda v: is_text(v, MAX_SHORT_TEXT)), _ISO_TIME),
    "started": (_nullable(lambda v: is_text(v, MAX_SHORT_TEXT)), _ISO_TIME),
    "mode": (lambda v: type(v) is str and v in MODES, f"one of {', '.join(MODES)}"),
    "screen": (_nullable(_pair(SIZE)), "null or " + _pair_text("[width, height]", SIZE)),
}
_CALIBRATION_RULES: dict[str, tuple[Check, str]] = {
    "method": (_nullable(lambda v: is_text(v, MAX_SHORT_TEXT)), f"null or {short_text_rule(MAX_SHORT_TEXT)}"),
    "checkError": (_nullable(SIZE.holds), f"null or {SIZE.text()}"),
    "rawError": (_nullable(SIZE.holds), f"null or {SIZE.text()}"),
    "points": (
        _nullable(lambda v: type(v) is int and 0 <= v <= MAX_CALIBRATION_POINTS),
        f"null or a count from 0 to {MAX_CALIBRATION_POINTS}",
    ),
}
_PAGE_RULES: dict[str, tuple[Check, str]] = {
    "id": (is_text, TEXT_RULE),
    "width": (_nullable(SIZE.holds), f"null or {SIZE.text()}"),
    "height": (_nullable(SIZE.holds), f"null or {SIZE.text()}"),
    "image": (_nullable(is_text), f"null or {TEXT_RULE}"),
}


def check_header(key: str, value: Any, name: Callable[[str], str]) -> None:
    """Check one of HEADER_RULES' fields; ``name`` writes a field's path for messages ("'mode'", "meta.mode")."""
    check, expected = HEADER_RULES[key]
    if not check(value):
        fail(f"{name(key)} must be {expected}")


def check_calibration(value: Any, name: Callable[[str], str]) -> dict[str, Any] | None:
    """Check a calibration summary (null, or {method, checkError, rawError, points} and small later fields)."""
    if value is None:
        return None
    limit = len(CALIBRATION_FIELDS) + MAX_EXTRA_KEYS
    if type(value) is not dict or len(value) > limit:
        fail(f"{name('calibration')} must be null or an object of at most {limit} fields")
    for key, item in value.items():
        rule = _CALIBRATION_RULES.get(key)
        if rule is None:
            check_extra(key, item, name("calibration"), lambda extra: name(f"calibration.{extra}"))
        elif not rule[0](item):
            fail(f"{name(f'calibration.{key}')} must be {rule[1]}")
    return {key: value.get(key) for key in CALIBRATION_FIELDS}


def check_pages(value: Any, name: Callable[[str], str]) -> list[dict[str, Any]]:
    """Check the documents the samples refer to: at most MAX_PAGES objects {id, width, height, image}."""
    if type(value) is not list or len(value) > MAX_PAGES:
        fail(f"{name('pages')} must be an array of at most {MAX_PAGES} pages")
    for index, page in enumerate(value):
        where = f"pages[{index}]"
        if type(page) is not dict or not set(page) <= set(PAGE_FIELDS):
            fail(f"{name(where)} must be an object of {', '.join(PAGE_FIELDS)}")
        for key, (check, expected) in _PAGE_RULES.items():
            if not check(page.get(key)):
                fail(f"{name(f'{where}.{key}')} must be {expected}")
    return [{key: page.get(key) for key in PAGE_FIELDS} for page in value]


# ---------------------------------------------------------------- a document


def check_document(document: Any, source: str) -> dict[str, Any]:
    """Check a samples document (version 1 or 2: a page's export, a collected session); return it in the version 2 shape.

    ``source`` names the input in messages. The samples come back upgraded (upgrade.upgrade_sample), a version 1
    document with the version 2 fields it lacks filled and ``upgraded_from: 1``.
    """
    if type(document) is not dict:
        fail(f"{source}: expected a {SAMPLE_FORMAT_NAME} JSON object, got a JSON {json_type(document)}")
    if document.get("format") == EXPORT_INDEX_FORMAT:
        raise ExportIndexError(f"{source}: the index of a 'gazesite collect export' (it lists the session files), not a sample file")
    if document.get("format") != SAMPLE_FORMAT_NAME:
        fail(f"{source}: 'format' must be {SAMPLE_FORMAT_NAME!r} (a sample file from a gazesite page)")
    version = document.get("version")
    if type(version) is not int or version not in SAMPLE_VERSIONS:
        fail(f"{source}: 'version' must be one of {', '.join(map(str, SAMPLE_VERSIONS))}")
    samples = document.get("samples")
    if type(samples) is not list:
        fail(f"{source}: 'samples' must be an array")
    if len(samples) > schema.MAX_SAMPLES_PER_SESSION:
        fail(f"{source}: {len(samples):,} samples, more than {schema.MAX_SAMPLES_PER_SESSION:,}")

    def name(key: str) -> str:
        return f"{source}: '{key}'"

    for key in ("target", "created", "started"):  # version 1 had these too
        check_header(key, document.get(key), name)
    checked: dict[str, Any] = {"format": SAMPLE_FORMAT_NAME, "version": schema.SAMPLE_VERSION}
    checked.update({key: document.get(key) for key in ("target", "created", "started")}, **V1_DOCUMENT)
    checked["pages"] = []  # a list of its own, not the shared default
    if version >= 2:
        checked.update(_version_2_fields(document, source, name))
    for index, sample in enumerate(samples):
        check_sample(sample, f"{source}: sample {index + 1}")
    checked["samples"] = [upgrade_sample(sample) for sample in samples]
    if version == 1:
        checked["upgraded_from"] = 1
    return checked


def check_ids(value: dict[str, Any], name: Callable[[str], str]) -> tuple[str, str | None]:
    """The session id and the optional study name every document and batch carries, checked."""
    session = value.get("session")
    if type(session) is not str or not SESSION_ID.fullmatch(session):
        fail(f"{name('session')} must be {SESSION_RULE}")
    study = value.get("study")
    if study is not None and not (type(study) is str and STUDY_PATTERN.fullmatch(study)):
        fail(f"{name('study')} must be null or {STUDY_RULE}")
    return session, study


def _version_2_fields(document: dict[str, Any], source: str, name: Callable[[str], str]) -> dict[str, Any]:
    """The fields version 2 added, checked."""
    for key in ("mode", "screen"):
        check_header(key, document.get(key), name)
    session, study = check_ids(document, name)
    participant = document.get("participant")
    if participant is not None and not is_participant_id(participant):
        fail(f"{name('participant')} must be null or {PARTICIPANT_RULE}")
    start, end = (document.get(key) for key in ("pageStart", "pageEnd"))
    for key, value in (("pageStart", start), ("pageEnd", end)):
        if value is not None and not TIME.holds(value):
            fail(f"{name(key)} must be {TIME.text()} or null")
    if start is not None and end is not None and end < start:
        fail(f"{source}: 'pageEnd' ({end:g} ms) must not be before 'pageStart' ({start:g} ms)")
    return {
        "mode": document["mode"],
        "session": session,
        "study": study,
        "screen": document.get("screen"),
        "calibration": check_calibration(document.get("calibration"), name),
        "pages": check_pages(document.get("pages"), name),
        "participant": participant,
        "pageStart": start,
        "pageEnd": end,
    }
