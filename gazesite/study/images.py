"""Snapshot images: read a PNG/JPEG/WebP safely, crop it to the height limit, cut it into WebP tiles.

An image is untrusted: its header is parsed by hand first, so a small file
that declares a huge canvas (a decompression bomb) is refused before any
decoder allocates it; only then does OpenCV decode it, and the result must
have the size the header declared.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gazesite.bounded import InputError, read_bounded
from gazesite.samples.schema import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_SNAPSHOT_HEIGHT,
    MAX_SNAPSHOT_WIDTH,
    MIN_SNAPSHOT_WIDTH,
)

log = logging.getLogger(__name__)

#: Height of one tile the page loads (lazily): a 15,000 px page is 8 tiles, and only those near the view are decoded.
TILE_HEIGHT = 2048
#: WebP quality of tiles and full images: text stays legible, a page of text is ~0.1 MB per 1,000 px at 1280.
WEBP_QUALITY = 85
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Picture:
    """A decoded snapshot: BGR pixels (height <= MAX_SNAPSHOT_HEIGHT) and the height before any crop."""

    pixels: np.ndarray
    full_height: int

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def cropped(self) -> bool:
        return self.full_height > self.height


def image_size(data: bytes) -> tuple[str, int, int]:
    """Return (format, width, height) from a PNG, JPEG or WebP header; InputError for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        if len(data) < 24 or data[12:16] != b"IHDR":
            raise InputError("is a truncated PNG (no IHDR header)")
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:3] == b"\xff\xd8\xff":
        return ("jpeg", *_jpeg_size(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("webp", *_webp_size(data))
    raise InputError("is not a PNG, JPEG or WebP image")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the JPEG markers to the first start-of-frame and read its size."""
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise InputError("is a damaged JPEG (a marker is missing)")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            offset += 2
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if offset + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        if length < 2:
            raise InputError("is a damaged JPEG (a segment length is wrong)")
        offset += 2 + length
    raise InputError("is a truncated JPEG (no frame header)")


def _webp_size(data: bytes) -> tuple[int, int]:
    """Read the canvas size of a simple (VP8, VP8L) or extended (VP8X) WebP."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise InputError("is a truncated or unknown WebP")


def size_problem(width: int, height: int) -> str | None:
    """Why a canvas of width x height px cannot become a snapshot, or None."""
    if not MIN_SNAPSHOT_WIDTH <= width <= MAX_SNAPSHOT_WIDTH:
        return f"is {width} px wide: expected {MIN_SNAPSHOT_WIDTH} to {MAX_SNAPSHOT_WIDTH} px"
    if height < 1 or width * height > MAX_IMAGE_PIXELS:
        return f"is {width}x{height} px: expected at most {MAX_IMAGE_PIXELS:,} pixels"
    return None


def read_image(path: Path) -> Picture:
    """Read a PNG/JPEG/WebP file within the bounds above, cropped to MAX_SNAPSHOT_HEIGHT; InputError says why not."""
    import cv2

    data = read_bounded(path, MAX_IMAGE_BYTES)
    kind, width, height = image_size(data)
    if problem := size_problem(width, height):
        raise InputError(problem)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise InputError(f"is a {kind.upper()} that cannot be decoded")
    if decoded.shape[:2] != (height, width):
        raise InputError(f"declares {width}x{height} px but decodes to {decoded.shape[1]}x{decoded.shape[0]}")
    return Picture(to_bgr(decoded[:MAX_SNAPSHOT_HEIGHT]), height)


#: Rows converted at a time by to_bgr: its working memory is a few strips, not a few copies of the image.
CONVERT_ROWS = 256


def to_bgr(pixels: np.ndarray) -> np.ndarray:
    """8-bit BGR of a decoded image: 16-bit scaled down, grey spread, transparency laid over white (as a browser page's background)."""
    if pixels.dtype not in (np.uint8, np.uint16):
        raise InputError(f"has {pixels.dtype} pixels: expected 8 or 16 bits per channel")
    # Strip by strip into one 8-bit result: a 16-bit RGBA page of the largest size is 0.5 GB decoded, and whole-image
    # temporaries (shifted, cast, blended) would add three times that.
    out = np.empty((*pixels.shape[:2], 3), np.uint8)
    for top in range(0, pixels.shape[0], CONVERT_ROWS):
        out[top : top + CONVERT_ROWS] = _strip_to_bgr(pixels[top : top + CONVERT_ROWS])
    return out


def _strip_to_bgr(pixels: np.ndarray) -> np.ndarray:
    """to_bgr of a few rows."""
    import cv2

    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    if pixels.shape[2] == 4:
        alpha = pixels[:, :, 3:4].astype(np.uint16)
        return ((pixels[:, :, :3].astype(np.uint16) * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    return pixels[:, :, :3]


def encode_webp(pixels: np.ndarray) -> bytes:
    """Encode BGR pixels as WebP (deterministic: the same pixels give the same bytes)."""
    import cv2

    ok, encoded = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, WEBP_QUALITY])
    if not ok:
        raise InputError("could not be encoded as WebP")
    return encoded.tobytes()


def tiles(picture: Picture) -> list[tuple[int, bytes]]:
    """Cut a snapshot into (top y, WebP bytes) tiles of TILE_HEIGHT px (the last one shorter)."""
    return [(top, encode_webp(picture.pixels[top : top + TILE_HEIGHT])) for top in range(0, picture.height, TILE_HEIGHT)]


def describe_bytes(count: int) -> str:
    """A byte count for the build output, in MB (10^6 bytes)."""
    return f"{count / 1e6:.2f} MB"
