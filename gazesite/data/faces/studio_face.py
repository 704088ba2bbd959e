"""The studio renderer's pen and the parts it draws on the face: eyes, glasses, brows, nose, mouth, ears.

Every part is a set of 3D points in head coordinates, projected through the
person's webcam and filled as anti-aliased polygons on a box of the canvas
(the head's layer). The irises are discs around each eye's optical axis
from :func:`gazesite.data.faces.geometry.eye_rotations`, so where they show
is where the person looks.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from gazesite.data.faces import geometry
from gazesite.data.faces.looks import Color, shade
from gazesite.data.faces.studio_model import Look, chin_y, half_width, on_face, surface_z

#: The canvas is this many times the frame, then shrinks with area averaging (sub-pixel iris movement survives).
SCALE = 2
#: Fixed-point bits for OpenCV's sub-pixel drawing coordinates.
SHIFT = 4
#: The cornea's radius of curvature (m): the light's reflection sits on it, not on the eyeball.
_CORNEA_RADIUS = 0.0078
#: How far the upper lid follows the eye's vertical rotation (in eyeball radii per unit of sin(pitch)).
_LID_FOLLOW = 0.8


class Pen:
    """Draws a person's head-coordinate shapes onto a box of the canvas: colour image and coverage, both uint8."""

    def __init__(self, rig: geometry.Rig, look: Look, box: tuple[int, int, int, int]) -> None:
        self.rig, self.look, self.box = rig, look, box
        x0, y0, x1, y1 = box
        self.image = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        self.cover = np.zeros((y1 - y0, x1 - x0), np.uint8)
        self.rotation = geometry.rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll)
        depth = geometry.to_camera(rig.camera, np.asarray(rig.head.position))[2]
        self.per_metre = rig.camera.focal / depth * SCALE  # canvas pixels per metre at the face

    def pixels(self, points: np.ndarray) -> np.ndarray:
        """Frame pixel positions (N, 2) of head points (N, 3)."""
        return geometry.project(self.rig.camera, geometry.head_to_world(self.rig.head, points))

    def fixed(self, points: np.ndarray) -> np.ndarray:
        """Fixed-point coordinates (N, 2) int32 in the box of head points, for OpenCV's shift argument."""
        canvas = (self.pixels(points) + 0.5) * SCALE - 0.5 - np.array(self.box[:2])
        return np.round(np.clip(canvas, -4000, 4000) * (1 << SHIFT)).astype(np.int32)

    def width(self, metres: float) -> int:
        """A line width in canvas pixels for one given in metres at the face."""
        return max(1, round(metres * self.per_metre))

    def fill(self, points: np.ndarray, colour: Color, covers: bool = False) -> None:
        """Fill the polygon through head points (and mark it covered, for parts that reach past the head)."""
        fixed = [self.fixed(points)]
        cv2.fillPoly(self.image, fixed, colour, cv2.LINE_AA, SHIFT)
        if covers:
            cv2.fillPoly(self.cover, fixed, 255, cv2.LINE_AA, SHIFT)

    def line(self, points: np.ndarray, colour: Color, metres: float, closed: bool = False, covers: bool = False) -> None:
        """Draw a polyline through head points, ``metres`` thick at the face."""
        fixed = [self.fixed(points)]
        cv2.polylines(self.image, fixed, closed, colour, self.width(metres), cv2.LINE_AA, SHIFT)
        if covers:
            cv2.polylines(self.cover, fixed, closed, 255, self.width(metres), cv2.LINE_AA, SHIFT)

    def to_head(self, world_vector: np.ndarray) -> np.ndarray:
        """A world direction in head coordinates."""
        return self.rotation.T @ np.asarray(world_vector, float)

    def toward_camera(self, point: np.ndarray) -> np.ndarray:
        """The unit head-coordinate direction from a head point to the webcam."""
        world = geometry.head_to_world(self.rig.head, point)
        toward = self.to_head(np.asarray(self.rig.camera.position) - world)
        return toward / np.linalg.norm(toward)


def _ring(centre: np.ndarray, u: np.ndarray, w: np.ndarray, count: int = 24) -> np.ndarray:
    """Points (count, 3) of the ellipse centre + cos(t) u + sin(t) w."""
    t = np.linspace(0, 2 * math.pi, count, endpoint=False)[:, None]
    return centre + np.cos(t) * u + np.sin(t) * w


def draw_eye(pen: Pen, index: int, rotation: tuple[float, float], toward_light: np.ndarray) -> np.ndarray | None:
    """Draw one eye (sclera, iris, pupil, lids) looking along ``rotation``; return its glint (a head point), if seen."""
    look, radius = pen.look, pen.rig.eyes.radius
    side = geometry.SIDES[index]
    centre = np.array([side * pen.rig.eyes.ipd / 2, 0.0, 0.0])
    pitch = rotation[1]
    up = float(np.clip(look.lid_up - _LID_FOLLOW * math.sin(pitch), 0.12, 0.95))
    down = float(np.clip(look.lid_down + 0.2 * math.sin(pitch), 0.15, 0.7))
    s = np.linspace(-1, 1, 17)  # inner corner .. outer corner
    span = 1 - s**2
    dx = side * s * look.eye_half_width * radius
    tilt = -look.canthal_tilt * s * radius  # the outer corner sits higher

    def on_ball(dy: np.ndarray) -> np.ndarray:
        z = np.sqrt(np.maximum(radius**2 - dx**2 - dy**2, (0.35 * radius) ** 2))
        return centre + np.stack([dx, dy, z], axis=-1)

    upper, lower = on_ball(-up * radius * span**0.6 + tilt), on_ball(down * radius * span**0.9 + tilt)
    pen.line(on_ball(-up * radius * span**0.6 + tilt - 0.5 * radius * span), shade(look.skin, 0.68), 0.0009)  # lid crease
    opening = np.concatenate([upper, lower[::-1]])
    _draw_eyeball(pen, opening, centre, rotation)
    pen.line(upper, shade(look.brow, 0.5), 0.0014)  # lashes along the upper lid
    pen.line(lower, shade(look.skin, 0.7), 0.0006)
    return _glint(pen, opening, centre, rotation, toward_light)


def _draw_eyeball(pen: Pen, opening: np.ndarray, centre: np.ndarray, rotation: tuple[float, float]) -> None:
    """Sclera, iris (with a darker rim) and pupil, clipped to the lid opening."""
    look, radius = pen.look, pen.rig.eyes.radius
    fixed = pen.fixed(opening)
    x, y, w, h = cv2.boundingRect(fixed >> SHIFT)
    x0, y0 = max(0, x - 2), max(0, y - 2)
    x1, y1 = min(pen.image.shape[1], x + w + 2), min(pen.image.shape[0], y + h + 2)
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([x0, y0]) << SHIFT
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [fixed - shift], 255, cv2.LINE_AA, SHIFT)
    eye = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
    eye[:] = look.sclera
    axis = geometry.direction(*rotation)
    u = np.cross(axis, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    iris_r, pupil_r = look.iris_radius, look.pupil_radius
    disc = centre + math.sqrt(radius**2 - iris_r**2) * axis
    for r, colour in ((iris_r, shade(look.iris, 0.5)), (0.8 * iris_r, look.iris), (pupil_r, (12.0, 12.0, 14.0))):
        cv2.fillPoly(eye, [pen.fixed(_ring(disc, r * u, r * v)) - shift], colour, cv2.LINE_AA, SHIFT)
    patch = pen.image[y0:y1, x0:x1]
    alpha = (mask.astype(np.float32) / 255)[..., None]
    patch[:] = (patch * (1 - alpha) + eye * alpha + 0.5).astype(np.uint8)


def _glint(pen: Pen, opening: np.ndarray, centre: np.ndarray, rotation: tuple[float, float], toward_light: np.ndarray) -> np.ndarray | None:
    """Where the key light reflects off the cornea (a head point), if inside the lid opening."""
    axis = geometry.direction(*rotation)
    cornea = centre + (pen.rig.eyes.radius - _CORNEA_RADIUS) * axis
    halfway = pen.to_head(toward_light) + pen.toward_camera(cornea)
    point = cornea + _CORNEA_RADIUS * halfway / np.linalg.norm(halfway)
    pixel = pen.pixels(point[None])[0]
    inside = cv2.pointPolygonTest(pen.pixels(opening).astype(np.float32), (float(pixel[0]), float(pixel[1])), False) > 0
    return point if inside else None


def draw_ears(pen: Pen) -> None:
    """Ears sticking out at the sides of the head (drawn before the face, which covers their inner half)."""
    look = pen.look
    t = np.linspace(0, 2 * math.pi, 16)
    for side in geometry.SIDES:
        x = side * (0.94 * half_width(look, 0.012) + 0.008 * (1 + np.cos(t)))
        pen.fill(
            np.stack([x, 0.012 + 0.026 * np.sin(t), look.head_centre[2] + 0.004 + 0.01 * np.cos(t)], axis=-1), shade(look.skin, 0.85), True
        )


def draw_features(pen: Pen, toward_light: np.ndarray) -> None:
    """Brows, nose (its side away from the light darker, the other lighter, nostrils) and mouth."""
    look, ipd = pen.look, pen.rig.eyes.ipd
    t = np.linspace(0, 1, 9)
    for side in geometry.SIDES:
        x = side * (ipd / 2 - 0.014 + 0.036 * t)
        top = look.brow_y - 0.004 * np.sin(math.pi * np.clip(t * 1.3, 0, 1))
        bottom = top + look.brow_thickness * (1 - 0.5 * t)
        pen.fill(np.concatenate([on_face(look, x, top, 0.001), on_face(look, x[::-1], bottom[::-1], 0.001)]), look.brow)
    light = pen.to_head(toward_light)
    dark = -1.0 if light[0] > 0 else 1.0  # the nose's side away from the light
    nose_y = look.nose_share * chin_y(look)
    tip = np.array([0.0, nose_y, float(surface_z(look, 0.0, nose_y)) + look.nose_depth])
    along = np.linspace(0, 1, 8)
    ridge_y = 0.006 + along * (nose_y - 0.01)
    ridge_z = surface_z(look, 0.0, ridge_y) + look.nose_depth * along**1.5

    def ridge(x: float) -> np.ndarray:
        return np.stack([np.full_like(along, x), ridge_y, ridge_z], axis=-1)

    pen.line(ridge(dark * 0.005), shade(look.skin, 0.76), 0.003)
    pen.line(ridge(-dark * 0.002), shade(look.skin, 1.12), 0.002)
    for side in geometry.SIDES:
        nostril = tip + np.array([side * 0.0065, 0.003, -0.6 * look.nose_depth])
        pen.fill(_ring(nostril, np.array([0.0028, 0.0, 0.0]), np.array([0.0, 0.0016, 0.0]), 10), shade(look.skin, 0.45))
    pen.fill(
        _ring(tip + np.array([-dark * 0.002, 0.0, 0.0]), np.array([0.003, 0.0, 0.0]), np.array([0.0, 0.0025, 0.0]), 10),
        shade(look.skin, 1.1),
    )
    mouth_y = nose_y + (chin_y(look) - nose_y) * look.mouth_share
    xs = np.linspace(-look.mouth_width, look.mouth_width, 13)
    bow = 1 - (xs / look.mouth_width) ** 2
    middle = on_face(look, xs, mouth_y + 0.0005 * bow, 0.001)
    pen.fill(np.concatenate([on_face(look, xs, mouth_y - 0.9 * look.lip_height * bow**0.5, 0.001), middle[::-1]]), look.lips)
    pen.fill(
        np.concatenate([middle, on_face(look, xs[::-1], mouth_y + 1.2 * look.lip_height * bow[::-1] ** 0.7, 0.001)]), shade(look.lips, 1.08)
    )
    pen.line(middle, shade(look.lips, 0.4), 0.0008)


def lens_rims(pen: Pen) -> list[np.ndarray]:
    """The two lens outlines (head points), or none without glasses."""
    look, ipd = pen.look, pen.rig.eyes.ipd
    if not look.glasses:
        return []
    power = 2.0 if look.glasses == "round" else 5.0
    half_w = min(look.lens_size[0], ipd / 2 - 0.004)  # a bridge at least 8 mm wide
    half_h = look.lens_size[1]
    t = np.linspace(0, 2 * math.pi, 32, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    x = half_w * np.sign(c) * np.abs(c) ** (2 / power)
    y = half_h * np.sign(s) * np.abs(s) ** (2 / power)
    z = pen.rig.eyes.radius + 0.011  # about a centimetre in front of the cornea
    return [np.stack([side * (ipd / 2 + 0.002) + x, 0.001 + y, np.full_like(x, z)], axis=-1) for side in geometry.SIDES]


def draw_glasses(pen: Pen, rims: list[np.ndarray]) -> None:
    """Frames around the lenses, the bridge between them and the temples back to the ears."""
    look = pen.look
    if not rims:
        return
    colour, thick = look.frame, look.frame_thickness
    for rim in rims:  # a turned head's near lens reaches past the cheek
        pen.line(rim, colour, thick, closed=True, covers=True)
    inner = [rim[np.argmin(np.abs(rim[:, 0]))] for rim in rims]
    top = min(rim[:, 1].min() for rim in rims)
    bridge_y = 0.55 * top
    bridge = np.array([inner[0], [0.0, bridge_y, max(float(surface_z(look, 0.0, bridge_y)) + 0.003, inner[0][2])], inner[1]])
    pen.line(bridge, colour, thick, covers=True)
    reach = 0.97 * half_width(look, 0.005)
    for side, rim in zip(geometry.SIDES, rims, strict=True):
        outer = rim[np.argmax(side * rim[:, 0])] + np.array([0.0, 0.3 * top, 0.0])
        ear = np.array([side * reach, 0.005, float(surface_z(look, side * reach, 0.005)) + 0.003])
        # A temple runs along the side of the head: seen only where that side faces the webcam.
        if side * pen.toward_camera(ear)[0] > 0:
            pen.line(np.array([outer, ear]), colour, thick, covers=True)


def glare_bands(pen: Pen, rims: list[np.ndarray]) -> list[np.ndarray]:
    """A slanted band across each lens (head points), where the lens reflects the room."""
    look = pen.look
    bands = []
    for rim in rims:
        centre = rim.mean(axis=0)
        half_w, half_h = np.ptp(rim[:, 0]) / 2, np.ptp(rim[:, 1]) / 2
        g, b = look.glare_offset * half_w, 0.22 * half_w
        corners = [
            (g + 0.3 * half_w - b, -1.2 * half_h),
            (g + 0.3 * half_w + b, -1.2 * half_h),
            (g - 0.3 * half_w + b, 1.2 * half_h),
            (g - 0.3 * half_w - b, 1.2 * half_h),
        ]
        bands.append(np.array([centre + np.array([dx, dy, 0.0]) for dx, dy in corners]))
    return bands
