"""The raycast renderer's scene: a head built from ellipsoids, spherical eyes, and vectorised ray tests.

Head coordinates as in :mod:`gazesite.data.faces.geometry`. The head is a union
of ellipsoids (skull, brow ridge, nose, cheekbones, muzzle, chin) with two
eyeball spheres set into it; hair is a clipped ellipsoid shell. Each part is
intersected only with the rays of its own screen bounding box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gazesite.data.faces import geometry, looks
from gazesite.data.faces.looks import Color

#: Rays per frame pixel along each axis (2 x 2 samples per pixel).
SAMPLES = 2
HAIR_STYLES = ("cap", "volume", "bald", "long")
HAIR_STYLE_WEIGHTS = (0.35, 0.3, 0.1, 0.25)
#: How thick each style's hair shell is over the skull (metres, before a per-person spread).
_HAIR_THICKNESS = {"cap": 0.006, "volume": 0.02, "bald": 0.0, "long": 0.014}
_NO_HIT = np.float32(np.inf)
#: Part ids in a hit map: what each ray hit first. PART0 + i is Look.parts[i].
WALL, NECK, SKULL, HAIR, EYE0, EYE1, PART0 = range(7)
BROW_RIDGE, NOSE = PART0, PART0 + 1


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid in head coordinates, optionally pitched (turned about the x axis) by ``tilt`` radians."""

    centre: tuple[float, float, float]
    axes: tuple[float, float, float]
    tilt: float = 0.0

    def corners(self) -> np.ndarray:
        """The 8 corners of a box around it (head coordinates); tight unless it is tilted."""
        ax, ay, az = self.axes
        half = np.array([ax, max(ay, az), max(ay, az)] if self.tilt else [ax, ay, az])
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
        return np.array(self.centre) + signs * half


@dataclass(frozen=True)
class Look:
    """What a raycast person looks like, and the room and light around them."""

    skin: Color
    hair: Color
    brow: Color
    lips: Color
    iris: Color
    clothes: Color
    skull: Ellipsoid
    parts: tuple[Ellipsoid, ...]  # brow ridge, nose, cheekbones, muzzle, chin: skin-coloured
    hair_style: str
    hair_shell: Ellipsoid
    hairline: float
    eye_half_width: float  # in eyeball radii
    lid_up: float  # in eyeball radii
    lid_down: float
    iris_angle: float  # half-angle of the iris seen from the eyeball centre
    pupil_angle: float
    brow_y: float
    brow_height: float
    mouth_y: float
    mouth_width: float
    lip_height: float
    light: tuple[float, float, float]  # world direction toward the light
    ambient: float
    wall: Color
    wall_distance: float  # behind the head, metres
    wall_seed: int
    iris_seed: int
    exposure: float
    noise_sigma: float


@dataclass(frozen=True)
class Person:
    """A raycast person: where they sit (geometry.Rig) and what they look like."""

    rig: geometry.Rig
    look: Look
    wall_z: float  # the wall behind the person (world z); fixed when the head moves
    torso: tuple[float, float, float]  # the torso's centre (world); fixed when the head moves


#: The neck, head coordinates (it turns with the head).
NECK_SHAPE = Ellipsoid((0.0, 0.13, -0.075), (0.048, 0.10, 0.048))


def random_look(rng: np.random.Generator) -> Look:
    """Draw a look with the raycast renderer's own proportions and palette use."""
    skin = looks.skin_tone(rng)
    hair = looks.hair_tone(rng, skin)
    ax, ay, az = rng.uniform(0.074, 0.084), rng.uniform(0.100, 0.115), rng.uniform(0.095, 0.105)
    skull = Ellipsoid((0.0, rng.uniform(0.0, 0.012), rng.uniform(-0.100, -0.092)), (ax, ay, az))
    nose_len = rng.uniform(0.019, 0.025)
    parts = (  # in BROW_RIDGE, NOSE, cheekbones, muzzle, chin order
        Ellipsoid((0.0, rng.uniform(-0.021, -0.016), rng.uniform(-0.014, -0.010)), (rng.uniform(0.056, 0.064), 0.014, 0.018)),
        Ellipsoid(
            (0.0, 0.016 + nose_len, rng.uniform(-0.002, 0.003)),
            (rng.uniform(0.008, 0.011), nose_len, rng.uniform(0.016, 0.021)),
            math.radians(rng.uniform(15, 30)),
        ),
        Ellipsoid((-0.036, 0.028, -0.029), (0.028, 0.022, 0.020)),
        Ellipsoid((0.036, 0.028, -0.029), (0.028, 0.022, 0.020)),
        Ellipsoid((0.0, rng.uniform(0.066, 0.074), -0.014), (rng.uniform(0.032, 0.038), 0.026, 0.022)),
        Ellipsoid((0.0, rng.uniform(0.100, 0.108), -0.022), (0.022, 0.016, 0.018)),
    )
    style = str(rng.choice(HAIR_STYLES, p=HAIR_STYLE_WEIGHTS))
    thickness = _HAIR_THICKNESS[style] * rng.uniform(0.7, 1.3)
    shell_axes = (ax + thickness, ay + thickness + (0.05 if style == "long" else 0.0), az + thickness)
    # Shifted back by its thickness: hair sits flat at the hairline and thickest at the crown and back.
    shell_centre = (skull.centre[0], skull.centre[1] + (0.04 if style == "long" else -thickness * 0.3), skull.centre[2] - thickness)
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.8, 0.1), rng.uniform(0.5, 1.0)])  # from the screen's side
    return Look(
        skin=skin,
        hair=hair,
        brow=looks.shade(looks.as_color(min(h, s * 0.5) for h, s in zip(hair, skin, strict=True)), rng.uniform(0.7, 1.0)),
        lips=looks.shade((skin[0] * 0.75, skin[1] * 0.7, min(255.0, skin[2] * 1.0)), rng.uniform(0.55, 0.8)),
        iris=looks.iris_tone(rng),
        clothes=looks.any_color(rng),
        skull=skull,
        parts=parts,
        hair_style=style,
        hair_shell=Ellipsoid(shell_centre, shell_axes),
        hairline=rng.uniform(-0.07, -0.05),
        eye_half_width=rng.uniform(1.15, 1.35),
        lid_up=rng.uniform(0.5, 0.7),
        lid_down=rng.uniform(0.3, 0.42),
        iris_angle=math.asin(rng.uniform(0.0055, 0.0063) / geometry.EYEBALL_RADIUS_M),
        pupil_angle=math.asin(rng.uniform(0.0015, 0.003) / geometry.EYEBALL_RADIUS_M),
        brow_y=rng.uniform(-0.024, -0.017),
        brow_height=rng.uniform(0.005, 0.009),
        mouth_y=rng.uniform(0.068, 0.076),
        mouth_width=rng.uniform(0.022, 0.028),
        lip_height=rng.uniform(0.003, 0.006),
        light=geometry.as_vec(light / np.linalg.norm(light)),
        ambient=rng.uniform(0.4, 0.65),
        wall=looks.any_color(rng, 50, 220),
        wall_distance=rng.uniform(0.4, 1.5),
        wall_seed=int(rng.integers(2**31)),
        iris_seed=int(rng.integers(2**31)),
        exposure=rng.uniform(100, 150),
        noise_sigma=rng.uniform(1.0, 4.5),
    )


def hair_boundary(look: Look, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """y of the hair's lower edge on the head: the hairline in front, higher at the temples, lower at the sides and back."""
    return look.hairline + 2.5 * x**2 + np.maximum(0, -z - 0.01) * 1.1


def intersect_ellipsoid(shape: Ellipsoid, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Distance along each ray (..., 3) to its first hit on the ellipsoid's outside, inf on a miss.

    ``origin`` is one point (3,) shared by all rays, or one per ray (..., 3).
    """
    o = np.asarray(origin, np.float32) - np.asarray(shape.centre, np.float32)
    d = dirs
    if shape.tilt:
        rot = _tilt_matrix(shape.tilt)
        o, d = o @ rot, d @ rot
    inv = 1 / np.asarray(shape.axes, np.float32)
    o, d = o * inv, d * inv
    # Solve |o + t d| = 1 (the unit sphere after scaling) for the nearer t.
    a = np.einsum("...k,...k->...", d, d)
    if o.ndim == 1:
        b, c = d @ o, float(o @ o) - 1
    else:
        b, c = np.einsum("...k,...k->...", d, o), np.einsum("...k,...k->...", o, o) - 1
    disc = b * b - a * c
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(disc)) / a
    return np.where((disc > 0) & (t > 0), t, _NO_HIT).astype(np.float32, copy=False)


def ellipsoid_normals(shape: Ellipsoid, points: np.ndarray) -> np.ndarray:
    """Outward unit normals at points (N, 3) on the ellipsoid."""
    p = points - np.asarray(shape.centre, np.float32)
    rot = _tilt_matrix(shape.tilt) if shape.tilt else None
    if rot is not None:
        p = p @ rot
    n = p / np.square(np.asarray(shape.axes, np.float32))
    if rot is not None:
        n = n @ rot.T
    return unit(n)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows (N, 3) scaled to length 1 (cheaper than np.linalg.norm on many short rows)."""
    return vectors / np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]


def _tilt_matrix(tilt: float) -> np.ndarray:
    """Rotation (rows applied to row vectors) into a frame pitched by tilt about x."""
    c, s = math.cos(tilt), math.sin(tilt)
    return np.array([[1, 0, 0], [0, c, s], [0, -s, c]], np.float32)
