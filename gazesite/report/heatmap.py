"""Draw the aggregated heatmap and the per-participant gaze plots over a page, as PNG.

Heatmap: every included participant's frames on the page, each at its page
point (``doc``, or the viewport point on the "viewport" page) and weighted by
the time it stands for (until the next frame, at most one face-lost gap), are
summed on a grid and blurred with a Gaussian of ``HEATMAP_SIGMA_PX`` document
px, then coloured over the page with opacity growing with the density.
Gaze plot: fixations as circles whose area grows with duration, numbered in
time order, joined by saccade lines.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gazesite.report.fixations import Fixation
from gazesite.report.model import Samples
from gazesite.report.pages import ReportPage

#: Blur of the heatmap, in document px (about the size of a webcam tracker's error).
HEATMAP_SIGMA_PX = 40.0
#: Densities below this share of the peak stay transparent.
HEATMAP_FLOOR = 0.03
HEATMAP_MAX_OPACITY = 0.75
#: Colour stops from low to high density: blue, cyan, green, yellow, red.
_STOPS = np.array([[0, 0, 255], [0, 255, 255], [0, 200, 0], [255, 255, 0], [255, 0, 0]], dtype=np.float64)
FIXATION_FILL = (220, 40, 40, 110)
FIXATION_LINE = (150, 0, 0, 230)
SACCADE_LINE = (40, 40, 40, 170)
#: Gaze plot marks are sized for a picture this wide and grow with wider ones.
GAZE_PLOT_REFERENCE_WIDTH = 600


def frame_weights(samples: Samples, gap_ms: float) -> np.ndarray:
    """Time each frame stands for, in ms: until the next frame, capped at ``gap_ms``; the last frame gets the median."""
    if len(samples) == 0:
        return np.zeros(0)
    steps = np.minimum(np.diff(samples.t), gap_ms)
    last = float(np.median(steps)) if len(steps) else 1.0
    return np.append(steps, last)


def density(points: np.ndarray, weights: np.ndarray, page: ReportPage) -> np.ndarray:
    """Return the blurred, peak-normalised density (height x width of the page's PNG); zeros without points."""
    from scipy.ndimage import gaussian_filter

    width, height = page.size
    grid = np.zeros((height, width))
    keep = np.isfinite(points).all(axis=1)
    if keep.any():
        scaled = points[keep] * page.scale
        grid, _, _ = np.histogram2d(
            scaled[:, 1], scaled[:, 0], bins=(height, width), range=((0, height), (0, width)), weights=weights[keep]
        )
        grid = gaussian_filter(grid, sigma=max(1.0, HEATMAP_SIGMA_PX * page.scale), mode="constant")
    peak = grid.max()
    return grid / peak if peak > 0 else grid


def colour(values: np.ndarray) -> np.ndarray:
    """Map values in 0..1 to RGB through the colour stops."""
    positions = np.linspace(0.0, 1.0, len(_STOPS))
    return np.stack([np.interp(values, positions, _STOPS[:, channel]) for channel in range(3)], axis=-1)


def draw_heatmap(canvas: Image.Image, points: np.ndarray, weights: np.ndarray, page: ReportPage) -> Image.Image:
    """Return the page with the heatmap of ``points`` (document px) drawn over it."""
    values = density(points, weights, page)
    opacity = np.where(values >= HEATMAP_FLOOR, np.sqrt(values) * HEATMAP_MAX_OPACITY, 0.0)[..., None]
    base = np.asarray(canvas.convert("RGB"), dtype=np.float64)
    blended = base * (1.0 - opacity) + colour(values) * opacity
    return Image.fromarray(np.clip(np.rint(blended), 0, 255).astype(np.uint8), "RGB")


def draw_gaze_plot(canvas: Image.Image, fixations: list[Fixation], page: ReportPage) -> Image.Image:
    """Return the page with one participant's fixations on it: numbered circles joined by saccade lines."""
    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    # Marks grow with the picture, so they stay readable when the report shows it small.
    size = max(1.0, canvas.size[0] / GAZE_PLOT_REFERENCE_WIDTH)
    placed = [fixation for fixation in fixations if fixation.placed]
    centres = [(fixation.x * page.scale, fixation.y * page.scale) for fixation in placed]
    for (start, end), (before, after) in zip(itertools.pairwise(centres), itertools.pairwise(placed), strict=True):
        if before.run == after.run:  # no saccade line across a face-lost gap
            pen.line([start, end], fill=SACCADE_LINE, width=round(2 * size))
    font = ImageFont.load_default(size=round(13 * size))
    for number, ((x, y), fixation) in enumerate(zip(centres, placed, strict=True), start=1):
        radius = size * min(40.0, 4.0 + 0.8 * np.sqrt(fixation.duration_ms))
        pen.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=FIXATION_FILL,
            outline=FIXATION_LINE,
            width=round(2 * size),
        )
        pen.text((x, y), str(number), fill=(0, 0, 0, 255), font=font, anchor="mm")
    return Image.alpha_composite(canvas.convert("RGBA"), overlay).convert("RGB")


def save_png(image: Image.Image, path: Path) -> None:
    """Write a PNG (optimised, no metadata, so two runs write the same bytes)."""
    image.save(path, format="PNG", optimize=True)
