"""Where the calibration and check dots go, in fractions of the screen, (0, 0) top-left.

Defined here once: the build writes the layouts into the page's settings,
and the accuracy benchmark and the tests use the same points.
"""

from __future__ import annotations

import math

Point = tuple[float, float]

#: Dots stay this far from the edges: eyes and models are least reliable at the very border,
#: and the person should not have to hunt for a dot.
MARGIN = 0.1
MIDDLE = 0.5
FAR = 1 - MARGIN
#: Candidate positions for filled-in and check dots: a 5% lattice.
LATTICE_STEP = 0.05
#: The check dots stay inside 15%..85%, so they measure interpolation (what tracking needs), not extrapolation.
CHECK_BOX = (0.15, 0.85)
#: Fewer than 5 points cannot separate a per-person offset, scale and skew from noise;
#: more than 25 tire the person more than they improve the fit.
MIN_POINTS = 5
MAX_POINTS = 25


def grid(size: int) -> list[Point]:
    """A size x size grid from MARGIN to FAR, row by row."""
    step = (FAR - MARGIN) / (size - 1)
    return [(MARGIN + col * step, MARGIN + row * step) for row in range(size) for col in range(size)]


#: The hand-made layouts; any other count is filled in from the largest one below it.
LAYOUTS: dict[int, list[Point]] = {
    5: [(MARGIN, MARGIN), (FAR, MARGIN), (MIDDLE, MIDDLE), (MARGIN, FAR), (FAR, FAR)],
    9: grid(3),
    13: [*grid(3), (0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)],
    16: grid(4),
    25: grid(5),
}


def lattice(low: float, high: float) -> list[Point]:
    """Every point of the 5% lattice in the square low..high, row by row."""
    steps = round((high - low) / LATTICE_STEP)
    return [(low + col * LATTICE_STEP, low + row * LATTICE_STEP) for row in range(steps + 1) for col in range(steps + 1)]


def fill_farthest(taken: list[Point], count: int, candidates: list[Point]) -> list[Point]:
    """Add ``count`` candidates, each as far as possible from every point so far.

    Among equally far ones, the one farthest from the points this fill added
    (so they spread out rather than line up), then the first in reading
    order. Deterministic and spread out.
    """

    def nearest(candidate: Point, points: list[Point]) -> float:
        return min(math.hypot(candidate[0] - x, candidate[1] - y) for x, y in points)

    points = list(taken)
    added: list[Point] = []
    for _ in range(count):
        best, best_key = None, (-1.0, -1.0)
        for candidate in candidates:
            key = (nearest(candidate, points), nearest(candidate, added) if added else 0.0)
            if key[0] > best_key[0] + 1e-9 or (abs(key[0] - best_key[0]) <= 1e-9 and key[1] > best_key[1] + 1e-9):
                best, best_key = candidate, key
        assert best is not None
        points.append(best)
        added.append(best)
    return added


def calibration_layout(count: int) -> list[Point]:
    """The calibration dots for ``count`` points (MIN_POINTS..MAX_POINTS).

    5 = four near-corners and the centre; 9 = a 3x3 grid at 10%/50%/90%;
    13 = that grid plus the centres of its four quadrants; 16 and 25 = 4x4
    and 5x5 grids; any other count starts from the largest of these below it
    and adds the lattice points farthest from the dots so far.
    """
    if not MIN_POINTS <= count <= MAX_POINTS:
        raise ValueError(f"calibration points must be {MIN_POINTS} to {MAX_POINTS}, got {count}")
    base = max(size for size in LAYOUTS if size <= count)
    points = list(LAYOUTS[base])
    return _rounded(points + fill_farthest(points, count - base, lattice(MARGIN, FAR)))


def check_layout(count: int, used: list[Point]) -> list[Point]:
    """``count`` check dots inside CHECK_BOX, as far as possible from the calibration dots ``used``."""
    return _rounded(fill_farthest(used, count, lattice(*CHECK_BOX)))


def _rounded(points: list[Point]) -> list[Point]:
    """Points without float noise (0.30000000000000004 -> 0.3): they are written into the page's settings."""
    return [(round(x, 6), round(y, 6)) for x, y in points]
