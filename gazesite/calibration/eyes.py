"""The eye band as calibration inputs: registered to the person's own eyes, then smoothed and normalised.

Twin of ``assets/app/calibration/eyes.js``, step for step. The pipeline cuts
the band with a margin around it (``gazesite.track.pipeline.cut_eyes``). The face
box the band hangs from jitters by a few pixels between frames, about as far
as the iris travels across the whole screen, so each band is first shifted
onto a reference (the person's mean band, built from the calibration frames):
an exhaustive integer search, coarse then fine, refined to a sub-pixel shift.
Measured on unseen people of a renderer the model never saw, 9 dots x 5
frames: registration took the calibrated error from 0.115 to 0.058 of the
screen (median of 6).

Every decision (the best shift) is taken on integers, so Python and the
browser take the same one; the floating-point steps after it run in the
same order on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gazesite.calibration.settings import COARSE, REFERENCE_ROUNDS, SMOOTHING
from gazesite.track.pipeline import PIPELINE, PipelineSpec


@dataclass(frozen=True)
class Layout:
    """The band's size and its margins (band pixels), from the pipeline constants."""

    width: int
    height: int
    margin_x: int
    margin_y: int

    @classmethod
    def of(cls, spec: PipelineSpec = PIPELINE) -> Layout:
        """The layout the pipeline cuts."""
        return cls(spec.eyes_width, spec.eyes_height, spec.eyes_margin_x, spec.eyes_margin_y)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of a band with its margins."""
        return self.height + 2 * self.margin_y, self.width + 2 * self.margin_x


#: The layout of the pipeline's own constants: every function's default.
LAYOUT = Layout.of()


def _costs(band: np.ndarray, reference: np.ndarray, left: int, top: int, columns: int, rows: int) -> np.ndarray:
    """Zero-mean sums of squared differences, times the pixel count, in exact integers, for a block of shifts.

    Entry [j, i] compares the reference with the band's window at (left + i, top + j):
    N * sum((a - b)^2) - (sum(a) - sum(b))^2. Subtracting each side's mean makes
    it blind to exposure, and N times it keeps it an integer.
    """
    h, w = reference.shape
    area = band[top : top + rows + h - 1, left : left + columns + w - 1].astype(np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(area, (h, w))  # (rows, columns, h, w)
    difference = windows - reference.astype(np.int64)
    total = difference.sum(axis=(2, 3))
    return h * w * (difference * difference).sum(axis=(2, 3)) - total * total


def _search(band: np.ndarray, reference: np.ndarray, layout: Layout, xs: range, ys: range) -> tuple[int, int, dict[tuple[int, int], int]]:
    """The shift (dx, dy) of least cost among xs x ys (first in row order on a tie), and every cost."""
    block = _costs(band, reference, layout.margin_x + xs.start, layout.margin_y + ys.start, len(xs), len(ys))
    j, i = np.unravel_index(int(np.argmin(block)), block.shape)  # argmin takes the first minimum in row order
    costs = {(dx, dy): int(block[b, a]) for b, dy in enumerate(ys) for a, dx in enumerate(xs)}
    return xs[i], ys[j], costs


def _shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """Sums over factor x factor blocks (integers), dropping a ragged edge."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    return image[: h * factor, : w * factor].astype(np.int64).reshape(h, factor, w, factor).sum(axis=(1, 3))


def integer_shift(band: np.ndarray, reference: np.ndarray, layout: Layout = LAYOUT) -> tuple[int, int, dict[tuple[int, int], int]]:
    """Where the reference sits in the band: a coarse search on halved images, then +-1 pixel around it."""
    mx, my = layout.margin_x // COARSE, layout.margin_y // COARSE
    coarse = Layout(layout.width // COARSE, layout.height // COARSE, mx, my)
    cx, cy, _ = _search(_shrink(band, COARSE), _shrink(reference, COARSE), coarse, range(-mx, mx + 1), range(-my, my + 1))
    xs = range(max(-layout.margin_x, cx * COARSE - 1), min(layout.margin_x, cx * COARSE + 1) + 1)
    ys = range(max(-layout.margin_y, cy * COARSE - 1), min(layout.margin_y, cy * COARSE + 1) + 1)
    return _search(band, reference.astype(np.int64), layout, xs, ys)


def _parabola(before: int | None, at: int, after: int | None) -> float:
    """The offset of a parabola's minimum through three costs, within half a pixel (0 at the margin or a flat spot)."""
    if before is None or after is None:
        return 0.0
    curvature = before - 2 * at + after
    if curvature <= 0:
        return 0.0
    return min(0.5, max(-0.5, 0.5 * (before - after) / curvature))


def register(band: np.ndarray, reference: np.ndarray, layout: Layout = LAYOUT) -> tuple[float, float]:
    """The sub-pixel shift (x, y) that lays the reference onto the band."""
    dx, dy, costs = integer_shift(band, reference, layout)

    def near(x: int, y: int) -> int | None:
        # The fine search tries +-1 pixel around the coarse estimate, so its best shift lies on that window's
        # edge in about half the frames, per axis; the neighbour outside is computed rather than given up on.
        # On 18 unseen people (3 renderers, 9 dots x 27 frames) that took the median calibrated error from
        # 0.0266 / 0.0459 / 0.0469 to 0.0256 / 0.0405 / 0.0428 of the screen (cartoon / vector / raycast).
        if abs(x) > layout.margin_x or abs(y) > layout.margin_y:
            return None
        if (x, y) not in costs:
            costs[(x, y)] = int(_costs(band, reference, layout.margin_x + x, layout.margin_y + y, 1, 1)[0, 0])
        return costs[(x, y)]

    fx = _parabola(near(dx - 1, dy), costs[(dx, dy)], near(dx + 1, dy))
    fy = _parabola(near(dx, dy - 1), costs[(dx, dy)], near(dx, dy + 1))
    return dx + fx, dy + fy


def _window(band: np.ndarray, shift: tuple[float, float], layout: Layout) -> np.ndarray:
    """The band's pixels at the reference's place, by bilinear interpolation (float64)."""
    sx, sy = layout.margin_x + shift[0], layout.margin_y + shift[1]
    x0, y0 = int(np.floor(sx)), int(np.floor(sy))
    fx, fy = sx - x0, sy - y0
    # One repeated row and column: at the outermost shift the second neighbour has weight 0 but must exist.
    image = np.pad(band.astype(np.float64), ((0, 1), (0, 1)), mode="edge")
    rows = slice(y0, y0 + layout.height)
    a = image[rows, x0 : x0 + layout.width]
    b = image[rows, x0 + 1 : x0 + 1 + layout.width]
    c = image[y0 + 1 : y0 + 1 + layout.height, x0 : x0 + layout.width]
    d = image[y0 + 1 : y0 + 1 + layout.height, x0 + 1 : x0 + 1 + layout.width]
    return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d)


def _smooth(image: np.ndarray) -> np.ndarray:
    """Binomial smoothing per axis, edges repeated; the taps are added in order, as the page adds them."""
    radius = len(SMOOTHING) // 2
    total = 0.0
    for tap in SMOOTHING:
        total += tap
    for axis in (1, 0):
        size = image.shape[axis]
        out = np.zeros_like(image)
        for k, tap in enumerate(SMOOTHING):
            index = np.clip(np.arange(size) + k - radius, 0, size - 1)
            out = out + tap * np.take(image, index, axis=axis)
        image = out / total
    return image


def features(band: np.ndarray, reference: np.ndarray, layout: Layout = LAYOUT) -> np.ndarray:
    """A band's calibration inputs: registered, halved (2x2 means), smoothed, zero mean and unit variance per frame."""
    band = np.asarray(band, np.uint8).reshape(layout.shape)
    window = _window(band, register(band, reference, layout), layout)
    h, w = layout.height // 2, layout.width // 2
    halved = (window[0::2, 0::2] + window[0::2, 1::2] + window[1::2, 0::2] + window[1::2, 1::2])[:h, :w] / 4
    values = _smooth(halved).ravel()
    centred = values - values.mean()
    spread = np.sqrt((centred * centred).mean())
    return centred / spread if spread > 0 else centred


def _mean(windows: list[np.ndarray]) -> np.ndarray:
    """The rounded mean of uint8 windows, in integers (round half up, as the page rounds)."""
    total = np.sum([w.astype(np.int64) for w in windows], axis=0)
    n = len(windows)
    return ((2 * total + n) // (2 * n)).astype(np.uint8)


def reference(bands: list[np.ndarray], layout: Layout = LAYOUT) -> np.ndarray:
    """The person's mean band: the centres, then REFERENCE_ROUNDS of registering every band to the mean."""
    bands = [np.asarray(b, np.uint8).reshape(layout.shape) for b in bands]
    centre = (slice(layout.margin_y, layout.margin_y + layout.height), slice(layout.margin_x, layout.margin_x + layout.width))
    mean = _mean([b[centre] for b in bands])
    for _ in range(REFERENCE_ROUNDS):
        shifted = []
        for band in bands:
            dx, dy, _ = integer_shift(band, mean, layout)
            shifted.append(
                band[
                    layout.margin_y + dy : layout.margin_y + dy + layout.height, layout.margin_x + dx : layout.margin_x + dx + layout.width
                ]
            )
        mean = _mean(shifted)
    return mean
