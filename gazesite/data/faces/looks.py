"""Colours people and rooms are drawn from (BGR, 0..255), shared by the 3D-aware renderers.

Only the palettes are shared: each renderer draws its own way.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Color = tuple[float, float, float]

#: Skin tones from very dark to very light (BGR); a person's tone interpolates between neighbours.
SKIN_TONES: tuple[Color, ...] = (
    (38, 48, 66),
    (52, 70, 100),
    (70, 98, 138),
    (92, 128, 172),
    (118, 156, 200),
    (146, 182, 224),
    (176, 204, 238),
    (200, 222, 248),
)
#: Mean BGR level of the darkest and the lightest skin tone.
SKIN_LEVEL_RANGE = (float(np.mean(SKIN_TONES[0])), float(np.mean(SKIN_TONES[-1])))
#: Hair from black through browns and red to blond and grey.
HAIR_TONES: tuple[Color, ...] = (
    (18, 18, 22),
    (28, 34, 48),
    (36, 54, 84),
    (40, 70, 120),
    (50, 80, 150),
    (90, 140, 190),
    (150, 150, 150),
)
#: Iris base colours: dark brown, brown, hazel, green, blue, grey.
IRIS_TONES: tuple[Color, ...] = ((20, 30, 45), (30, 55, 90), (50, 90, 110), (70, 120, 90), (150, 110, 60), (120, 120, 115))


def skin_tone(rng: np.random.Generator) -> Color:
    """A skin colour anywhere on the palette, with a little per-person hue variation."""
    t = rng.uniform(0, len(SKIN_TONES) - 1)
    i = min(int(t), len(SKIN_TONES) - 2)
    base = np.array(SKIN_TONES[i]) * (1 - (t - i)) + np.array(SKIN_TONES[i + 1]) * (t - i)
    return _clip(base * rng.uniform(0.94, 1.06, 3))


#: Most people's hair is black or dark brown.
HAIR_WEIGHTS = (0.3, 0.25, 0.15, 0.1, 0.07, 0.08, 0.05)
#: The red and blond entries of HAIR_TONES: common only with light skin.
_LIGHT_HAIR = (4, 5)


def hair_tone(rng: np.random.Generator, skin: Color) -> Color:
    """A hair colour from the palette (dark ones most often, red and blond mostly with light skin), slightly varied."""
    lightness = float(np.clip((np.mean(skin) - SKIN_LEVEL_RANGE[0]) / (SKIN_LEVEL_RANGE[1] - SKIN_LEVEL_RANGE[0]), 0, 1))
    weights = np.array(HAIR_WEIGHTS)
    weights[list(_LIGHT_HAIR)] *= lightness**2
    return _clip(np.array(HAIR_TONES[rng.choice(len(HAIR_TONES), p=weights / weights.sum())]) * rng.uniform(0.85, 1.15, 3))


def iris_tone(rng: np.random.Generator) -> Color:
    """An iris base colour from the palette, slightly varied."""
    return _clip(np.array(IRIS_TONES[rng.integers(len(IRIS_TONES))]) * rng.uniform(0.85, 1.15, 3))


def any_color(rng: np.random.Generator, low: float = 20, high: float = 235) -> Color:
    """A random colour (clothes, posters, furniture)."""
    return _clip(rng.uniform(low, high, 3))


def shade(color: Color, factor: float) -> Color:
    """The colour darkened (factor < 1) or lightened (> 1), clipped to 0..255."""
    return _clip(np.array(color) * factor)


def as_color(values: Iterable[float]) -> Color:
    """A colour tuple of Python floats from exactly three channel values (BGR)."""
    b, g, r = values
    return float(b), float(g), float(r)


def _clip(values: np.ndarray) -> Color:
    """A colour tuple from an array, clipped to 0..255."""
    return as_color(np.clip(values, 0, 255))
