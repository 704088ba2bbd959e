"""Read what users hand gazesite within fixed bounds: file type, size, unpacked size, JSON nesting depth.

Every JSON document a user supplies (model.json, a Keras model config,
metadata.json, a dataset, an earlier build.json), every gzip stream and every
.keras archive is read through here, so a broken or hostile file costs at
most these limits and ends in a one-line error, never a hang, a memory
blow-up or a traceback. The limits are documented in the docs (reference/limits.md).
"""

from __future__ import annotations

import json
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
#: Largest JSON document read from a user: model.json, a Keras config, metadata.json, build.json.
MAX_JSON_BYTES = 16 * MIB
#: Deepest nesting of JSON arrays and objects; real model configs stay below 20.
MAX_JSON_DEPTH = 100
#: Largest dataset file, as JSON after decompression: about 40,000 crops of 50x50.
#: A gzip bomb is refused after at most this much output, in about 0.1-0.3 s.
MAX_DATASET_BYTES = 128 * MIB
#: Largest model: a Keras HDF5 file, or everything a .keras archive unpacks to.
MAX_MODEL_BYTES = 512 * MIB
#: Most files in a .keras archive (tf_keras and Keras 3 write 3).
MAX_ARCHIVE_MEMBERS = 64
GZIP_MAGIC = b"\x1f\x8b"
#: Output per decompression step, so memory grows in small steps up to the limit.
_CHUNK = MIB


class InputError(ValueError):
    """An input gazesite will not read; the message completes "<the input> ...", e.g. "is larger than 16 MiB"."""


def size_text(count: int) -> str:
    """Write a byte count the way the docs do: "16 MiB"."""
    return f"{count // MIB} MiB" if count >= MIB and count % MIB == 0 else f"{count:,} bytes"


def require_regular_file(path: Path) -> os.stat_result:
    """Return the file's status, or raise InputError for a device, a FIFO, a socket or a folder."""
    try:
        status = os.stat(path)  # follows symlinks: what counts is what would be read
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise InputError("is not a regular file")
    return status


def resolve_path(path: Path) -> Path:
    """Where ``path`` really leads (every symbolic link followed); InputError for a link loop instead of a RuntimeError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError for a loop, 3.13 OSError
        raise InputError(f"is a symbolic link loop ({type(exc).__name__})") from None


def read_head(path: Path, count: int) -> bytes:
    """Return the first ``count`` bytes of a regular file (a format signature), reading no more."""
    require_regular_file(path)
    try:
        with open(path, "rb") as handle:
            return handle.read(count)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})") from None


def read_bounded(path: Path, limit: int) -> bytes:
    """Return the bytes of a regular file of at most ``limit`` bytes."""
    if require_regular_file(path).st_size > limit:
        raise InputError(f"is larger than {size_text(limit)}")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})") from None
    if len(data) > limit:  # it grew after the size check
        raise InputError(f"is larger than {size_text(limit)}")
    return data


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """Decompress gzip data (one or more members), stopping as soon as the output passes ``limit`` bytes."""
    # The last member's trailer declares its size (mod 2**32): an honest bomb is refused unopened.
    if len(data) >= 18 and int.from_bytes(data[-4:], "little") > limit:
        raise InputError(f"unpacks to more than {size_text(limit)}")
    parts: list[bytes] = []
    total = 0
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
            while pending and not inflater.eof:
                chunk = inflater.decompress(pending, _CHUNK)
                total += len(chunk)
                if total > limit:  # the trailer may lie: count what really comes out
                    raise InputError(f"unpacks to more than {size_text(limit)}")
                parts.append(chunk)
                pending = inflater.unconsumed_tail
            if not inflater.eof:
                raise InputError("is a truncated gzip stream")
            rest = inflater.unused_data
    except zlib.error as exc:
        raise InputError(f"is not a valid gzip stream ({exc})") from None
    return b"".join(parts)


def check_zip(path: Path, limit: int, max_members: int = MAX_ARCHIVE_MEMBERS) -> None:
    """Refuse a zip archive whose members declare more than ``limit`` bytes in all, before anything unpacks it.

    zipfile never returns more of a member than its header declares (and then
    fails the CRC check), so the declared sizes bound what any reader unpacks.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"is not a readable zip archive ({exc})") from None
    if len(members) > max_members:
        raise InputError(f"holds {len(members)} files, more than {max_members}")
    if sum(member.file_size for member in members) > limit:
        raise InputError(f"unpacks to more than {size_text(limit)}")


def read_zip_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Read one archive member, never more than ``limit`` bytes whatever its header declares; KeyError if absent."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise InputError(f"holds {name} larger than {size_text(limit)}")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:
        raise InputError(f"holds an unreadable {name} ({exc})") from None
    if len(data) > limit:
        raise InputError(f"holds {name} larger than {size_text(limit)}")
    return data


#: Most digits of an integer literal: far beyond any count, size or time gazesite reads (2**63 has 19), and short
#: enough that no check ever meets an integer too large for a float (10**309 makes math.isfinite raise).
MAX_INTEGER_DIGITS = 30


#: Integers this long in bits may have more than MAX_INTEGER_DIGITS digits (10**30 takes 100 bits, 2**99 has 30
#: digits): only those are counted in digits, so ordinary numbers cost one bit_length call.
_SUSPECT_INTEGER_BITS = 99


def _not_json(name: str) -> Any:
    """NaN, Infinity and -Infinity: Python's parser accepts them, JSON does not."""
    raise InputError(f"holds {name}, which is not JSON")


def parse_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse strict JSON (finite numbers, bounded integers), refusing documents nested deeper than ``max_depth``."""
    try:
        value = json.loads(data, parse_constant=_not_json)
    except RecursionError:  # the C parser gives up near the interpreter's recursion limit
        raise InputError(f"is nested deeper than {max_depth} levels") from None
    except InputError:
        raise
    except ValueError as exc:  # also UnicodeDecodeError, and integers beyond Python's digit limit
        raise InputError(f"is not valid JSON ({exc})") from None
    if nesting_depth(value, max_depth) > max_depth:
        raise InputError(f"is nested deeper than {max_depth} levels")
    return value


def _check_number(value: Any) -> None:
    """Refuse a parsed number no check downstream can take: an infinite float (1e400), an integer past 30 digits."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise InputError("holds a number too large for a float (its exponent is beyond 308)")
    if kind is int and value.bit_length() > _SUSPECT_INTEGER_BITS and len(str(abs(value))) > MAX_INTEGER_DIGITS:
        raise InputError(f"holds an integer of {len(str(abs(value)))} digits (at most {MAX_INTEGER_DIGITS})")


def nesting_depth(value: Any, stop_after: int = MAX_JSON_DEPTH) -> int:
    """How deep arrays and objects nest in ``value`` (a scalar is 0), counting no further than ``stop_after`` + 1.

    The walk also checks every number on the way (``_check_number``): one pass over the document does both.
    """
    _check_number(value)
    deepest = 0
    pending = [(value, 1)]
    while pending:  # a loop, not recursion: the depth is what is being checked
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > stop_after:
            break
        for child in children:
            if isinstance(child, (dict, list)):
                pending.append((child, depth + 1))
            elif type(child) in (int, float):
                _check_number(child)
    return deepest


def read_json(path: Path, limit: int = MAX_JSON_BYTES) -> Any:
    """Read a JSON file of at most ``limit`` bytes and ``MAX_JSON_DEPTH`` levels."""
    return parse_json(read_bounded(path, limit))


def read_json_object(path: Path, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """Read a JSON file that must hold an object."""
    value = read_json(path, limit)
    if not isinstance(value, dict):
        raise InputError(f"is not a JSON object but a JSON {json_type(value)}")
    return value


def json_type(value: Any) -> str:
    """Name a parsed JSON value's type as JSON does."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
