"""The vector renderer's person (a 3D head model with a look) and its pen (3D points -> anti-aliased polygons).

Head coordinates as in :mod:`gazesite.data.faces.geometry` (metres, origin between
the eyeball centres, x the person's right, y down, z forward). The head is an
egg: an ellipsoid whose lower half narrows toward the jaw.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from gazesite.data.faces import geometry, looks
from gazesite.data.faces.looks import Color

#: Drawing happens at this multiple of the frame size, then shrinks with area averaging.
SUPERSAMPLE = 4
#: Fixed-point bits for OpenCV's sub-pixel drawing coordinates.
SHIFT = 4
HAIR_STYLES = ("short", "long", "fringe", "bald", "curly", "buzz")
HAIR_STYLE_WEIGHTS = (0.3, 0.14, 0.16, 0.1, 0.16, 0.14)
#: The head mesh: latitudes x longitudes.
EGG_ROWS, EGG_COLS = 18, 32
GLASSES = ("", "", "", "", "", "round", "rect")  # most people at a screen wear none


@dataclass(frozen=True)
class Look:
    """Everything about a vector person that is not where they sit: shape, colours, style, light."""

    skin: Color
    hair: Color
    brow: Color
    lips: Color
    iris: Color
    sclera: Color
    clothes: Color
    head_axes: tuple[float, float, float]  # the egg's semi-axes
    head_centre: tuple[float, float, float]  # the egg's centre, head coordinates
    jaw_taper: float  # how much narrower the jaw is than the temples (0..1)
    hairline: float  # y of the hairline at the forehead's centre
    hair_style: str
    hair_volume: float  # metres of hair above the skull
    eye_half_width: float
    lid_up: float  # upper opening at rest, in eyeball radii
    lid_down: float
    canthal_tilt: float  # outer corner above the inner one, in eyeball radii
    iris_radius: float
    pupil_radius: float
    brow_y: float
    brow_thickness: float
    brow_arch: float
    nose_length: float
    nose_width: float
    mouth_y: float
    mouth_width: float
    lip_thickness: float
    beard: float  # opacity, 0 = none
    glasses: str  # "", "round" or "rect"
    glasses_px: float  # frame thickness in frame pixels
    lens_tint: Color
    lens_alpha: float
    light: tuple[float, float, float]  # world direction toward the light
    light_strength: float
    exposure: float  # mean grey level the webcam's auto exposure aims the face at
    texture_seed: int  # skin texture and iris pattern
    room_seed: int
    blur_sigma: float
    noise_sigma: float


@dataclass(frozen=True)
class Person:
    """A vector person: where they sit (geometry.Rig) and what they look like."""

    rig: geometry.Rig
    look: Look


def random_look(rng: np.random.Generator) -> Look:
    """Draw a look: proportions, colours, hair, glasses, light."""
    skin = looks.skin_tone(rng)
    hair = looks.hair_tone(rng, skin)
    ax = rng.uniform(0.070, 0.080)
    light = np.array([rng.uniform(-1, 1), rng.uniform(-0.9, 0.3), rng.uniform(0.4, 1.0)])  # from the screen's side
    beardy = rng.uniform() < 0.12
    return Look(
        skin=skin,
        hair=hair,
        # Brows darker than the skin whatever the hair: the cascade looks for a dark band over the eyes.
        brow=looks.shade(looks.as_color(min(h, s * 0.55) for h, s in zip(hair, skin, strict=True)), rng.uniform(0.6, 0.9)),
        lips=looks.shade((skin[0] * 0.8, skin[1] * 0.75, min(255.0, skin[2] * 1.05)), rng.uniform(0.5, 0.7)),
        iris=looks.iris_tone(rng),
        # In a webcam's few pixels the white of the eye reads grey: shadowed by lids and lashes.
        sclera=looks.shade((222, 228, 236), rng.uniform(0.6, 0.75)),
        clothes=looks.any_color(rng),
        head_axes=(ax, rng.uniform(0.108, 0.120), rng.uniform(0.096, 0.106)),
        head_centre=(0.0, rng.uniform(0.0, 0.01), rng.uniform(-0.088, -0.080)),
        jaw_taper=rng.uniform(0.12, 0.3),
        hairline=rng.uniform(-0.078, -0.052),
        hair_style=str(rng.choice(HAIR_STYLES, p=HAIR_STYLE_WEIGHTS)),
        hair_volume=rng.uniform(0.004, 0.022),
        eye_half_width=geometry.EYEBALL_RADIUS_M * rng.uniform(1.15, 1.36),
        lid_up=rng.uniform(0.38, 0.62),
        lid_down=rng.uniform(0.28, 0.42),
        canthal_tilt=rng.uniform(-0.05, 0.2),
        iris_radius=rng.uniform(0.0055, 0.0063),
        pupil_radius=rng.uniform(0.0014, 0.0030),
        brow_y=rng.uniform(-0.020, -0.012),
        brow_thickness=rng.uniform(0.005, 0.009),
        brow_arch=rng.uniform(0.0005, 0.0025),
        nose_length=rng.uniform(0.040, 0.052),
        nose_width=rng.uniform(0.014, 0.020),
        mouth_y=rng.uniform(0.068, 0.080),
        mouth_width=rng.uniform(0.021, 0.028),
        lip_thickness=rng.uniform(0.004, 0.009),
        beard=float(rng.uniform(0.4, 0.85)) if beardy else 0.0,
        glasses=str(rng.choice(GLASSES)),
        glasses_px=float(rng.choice([0.8, 1.2, 2.2, 3.2])),
        lens_tint=looks.any_color(rng, 60, 255),
        lens_alpha=rng.uniform(0.04, 0.16),
        light=geometry.as_vec(light / np.linalg.norm(light)),
        light_strength=rng.uniform(0.15, 0.55),
        exposure=rng.uniform(95, 155),
        texture_seed=int(rng.integers(2**31)),
        room_seed=int(rng.integers(2**31)),
        blur_sigma=rng.uniform(0.3, 0.9),
        noise_sigma=rng.uniform(1.0, 5.0),
    )


@functools.lru_cache(maxsize=64)
def egg_points(look: Look) -> np.ndarray:
    """Points (EGG_ROWS * EGG_COLS, 3) on the head's egg, head coordinates: a grid of latitudes (top first) and longitudes."""
    ax, ay, az = look.head_axes
    lat = np.linspace(-math.pi / 2, math.pi / 2, EGG_ROWS)[:, None]
    lon = np.linspace(0, 2 * math.pi, EGG_COLS, endpoint=False)[None, :]
    x = ax * np.cos(lat) * np.sin(lon)
    y = ay * np.sin(lat) * np.ones_like(lon)
    z = az * np.cos(lat) * np.cos(lon)
    x = x * jaw_factor(look, y)
    pts = np.stack([x, y, z], axis=-1).reshape(-1, 3) + np.array(look.head_centre)
    pts.setflags(write=False)
    return pts


def jaw_factor(look: Look, y_rel: np.ndarray) -> np.ndarray:
    """Width of the egg at height y_rel (from its centre) relative to the ellipsoid's: the jaw narrows."""
    ay = look.head_axes[1]
    below = np.clip((y_rel - 0.15 * ay) / (0.85 * ay), 0, 1)
    return 1 - look.jaw_taper * below**1.5


def surface_z(look: Look, x: np.ndarray, y: np.ndarray, lift: float = 0.0) -> np.ndarray:
    """z of the egg's front surface above head point (x, y), plus ``lift`` metres."""
    ax, ay, az = look.head_axes
    cx, cy, cz = look.head_centre
    yr = np.asarray(y) - cy
    xr = (np.asarray(x) - cx) / (ax * jaw_factor(look, yr))
    inside = np.clip(1 - xr**2 - (yr / ay) ** 2, 0.02, 1)
    return cz + az * np.sqrt(inside) + lift


def on_face(look: Look, x: npt.ArrayLike, y: npt.ArrayLike, lift: float = 0.0) -> np.ndarray:
    """Points (N, 3) on the front of the head at (x, y), lifted off the skin by ``lift``."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    return np.stack([x, y, surface_z(look, x, y, lift)], axis=-1)


class Pen:
    """Draws 3D head-coordinate shapes of one person onto a supersampled canvas."""

    def __init__(self, rig: geometry.Rig, canvas: np.ndarray) -> None:
        self.rig = rig
        self.canvas = canvas
        self.rotation = geometry.rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll)

    def pixels(self, points: np.ndarray) -> np.ndarray:
        """Frame pixel positions (N, 2) of head points (N, 3)."""
        world = np.asarray(points, float) @ self.rotation.T + np.asarray(self.rig.head.position)
        return geometry.project(self.rig.camera, world)

    def fixed(self, points: np.ndarray) -> np.ndarray:
        """Canvas fixed-point coordinates (N, 2) int32 of head points, for OpenCV's shift argument."""
        canvas_xy = (self.pixels(points) + 0.5) * SUPERSAMPLE - 0.5
        # Far outside the frame only the direction matters; the clip keeps fixed-point values in int32.
        limit = 4 * SUPERSAMPLE * self.rig.camera.width
        canvas_xy = np.clip(canvas_xy, -limit, limit)
        return np.round(canvas_xy * (1 << SHIFT)).astype(np.int32)

    def px(self, frame_pixels: float) -> int:
        """A thickness in canvas pixels for one given in frame pixels."""
        return max(1, round(frame_pixels * SUPERSAMPLE))

    def fill(self, points: np.ndarray, color: Color, canvas: np.ndarray | None = None) -> None:
        """Fill the polygon through head points."""
        cv2.fillPoly(self.canvas if canvas is None else canvas, [self.fixed(points)], color, cv2.LINE_AA, SHIFT)

    def hull(self, points: np.ndarray, color: Color, canvas: np.ndarray | None = None) -> np.ndarray:
        """Fill the convex hull of the projected points (a silhouette); return the hull (frame pixels)."""
        fixed = cv2.convexHull(self.fixed(points))
        cv2.fillPoly(self.canvas if canvas is None else canvas, [fixed], color, cv2.LINE_AA, SHIFT)
        return (fixed.reshape(-1, 2) / (1 << SHIFT) + 0.5) / SUPERSAMPLE - 0.5

    def line(self, points: np.ndarray, color: Color, frame_px: float, closed: bool = False, canvas: np.ndarray | None = None) -> None:
        """Draw a polyline through head points, frame_px frame pixels thick."""
        target = self.canvas if canvas is None else canvas
        cv2.polylines(target, [self.fixed(points)], closed, color, self.px(frame_px), cv2.LINE_AA, SHIFT)

    def to_head(self, world_vector: np.ndarray) -> np.ndarray:
        """A world direction in head coordinates."""
        return self.rotation.T @ np.asarray(world_vector, float)

    def camera_direction(self, head_point: np.ndarray) -> np.ndarray:
        """Unit head-coordinate direction from a head point toward the camera."""
        world = self.rotation @ np.asarray(head_point) + np.asarray(self.rig.head.position)
        toward = np.asarray(self.rig.camera.position) - world
        return self.to_head(toward / np.linalg.norm(toward))
