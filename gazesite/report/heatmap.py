"""Draw the aggregated heatmap and the per-participant gaze plots over a page, as PNG.

Heatmap: every included participant's frames on the page, each at its page
point (``doc``, or the viewport point on the "viewport" page) and weighted by
the time it stands for (until the next frame, at most one face-lost gap), are
summed on a grid and blurred with a Gaussian of ``HEATMAP_SIGMA_PX`` document
px, then coloured over the page with opacity growing with the density: the
value is a share of the page's peak density (the legend, ``draw_legend``, gives
the peak in ms of gaze per 100 x 100 document px), and below
``HEATMAP_FLOOR`` the overlay is fully transparent, rising from there, so
the page shows through where people hardly looked.
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
#: Densities below this share of the peak stay fully transparent; above it the opacity rises from 0.
HEATMAP_FLOOR = 0.05
HEATMAP_MAX_OPACITY = 0.75
#: How fast the opacity rises above the floor (1: linearly with the density; below 1: faster at the low end).
HEATMAP_OPACITY_GAMMA = 0.7
#: The area the legend states the peak density per, in document px.
LEGEND_AREA_PX = 100
#: The legend's colour bar, in px, and the shares of the peak it labels.
LEGEND_SIZE = (360, 18)
LEGEND_TICKS = (HEATMAP_FLOOR, 0.25, 0.5, 0.75, 1.0)
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


def density(points: np.ndarray, weights: np.ndarray, page: ReportPage) -> tuple[np.ndarray, float]:
    """Return the blurred density as shares of its peak (height x width of the page's PNG; zeros without points) and
    the peak in ms of gaze per LEGEND_AREA_PX x LEGEND_AREA_PX document px."""
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
    peak = float(grid.max())
    # The blur keeps the sum of the weights: a PNG px holds ms of gaze, and one PNG px is 1 / scale document px wide.
    per_area = peak * (page.scale * LEGEND_AREA_PX) ** 2
    return (grid / peak if peak > 0 else grid), per_area


def opacity(values: np.ndarray) -> np.ndarray:
    """The overlay's opacity for densities in 0..1: 0 up to HEATMAP_FLOOR, rising to HEATMAP_MAX_OPACITY at the peak."""
    above = np.clip((values - HEATMAP_FLOOR) / (1.0 - HEATMAP_FLOOR), 0.0, 1.0)
    return np.where(values > HEATMAP_FLOOR, above**HEATMAP_OPACITY_GAMMA * HEATMAP_MAX_OPACITY, 0.0)


def colour(values: np.ndarray) -> np.ndarray:
    """Map values in 0..1 to RGB through the colour stops."""
    positions = np.linspace(0.0, 1.0, len(_STOPS))
    return np.stack([np.interp(values, positions, _STOPS[:, channel]) for channel in range(3)], axis=-1)


def blend(base: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Colour densities ``values`` (0..1) over ``base`` (RGB floats), as uint8 RGB."""
    alpha = opacity(values)[..., None]
    return np.clip(np.rint(base * (1.0 - alpha) + colour(values) * alpha), 0, 255).astype(np.uint8)


def draw_heatmap(canvas: Image.Image, points: np.ndarray, weights: np.ndarray, page: ReportPage) -> tuple[Image.Image, float]:
    """Return the page with the heatmap of ``points`` (document px) drawn over it, and its peak (see ``density``)."""
    values, peak = density(points, weights, page)
    base = np.asarray(canvas.convert("RGB"), dtype=np.float64)
    return Image.fromarray(blend(base, values), "RGB"), peak


def draw_legend(background: tuple[int, int, int]) -> Image.Image:
    """The heatmap's colour bar over a plain page: shares of the peak from 0 to 1, the ticks labelled in percent."""
    width, height = LEGEND_SIZE
    margin, label_height = 12, 16
    image = Image.new("RGB", (width + 2 * margin, height + label_height + 6), (255, 255, 255))
    values = np.tile(np.linspace(0.0, 1.0, width), (height, 1))
    bar = blend(np.full((height, width, 3), background, dtype=np.float64), values)
    image.paste(Image.fromarray(bar, "RGB"), (margin, 2))
    pen = ImageDraw.Draw(image)
    pen.rectangle([margin - 1, 1, margin + width, height + 2], outline=(120, 120, 120))
    font = ImageFont.load_default(size=11)
    for tick in LEGEND_TICKS:
        x = margin + round(tick * (width - 1))
        pen.line([x, height + 2, x, height + 5], fill=(60, 60, 60))
        pen.text((x, height + 6), f"{tick:.0%}", fill=(30, 30, 30), font=font, anchor="mt")
    return image


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
