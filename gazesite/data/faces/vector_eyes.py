"""Eyes, brows and glasses of the vector renderer, drawn from 3D curves in head coordinates.

An eye is an almond opening (two lid curves on the eyeball) through which a
sclera, a textured iris disc (a 3D circle around the optical axis, so a
turned eye shows an ellipse), a limbal ring, a pupil and a corneal highlight
show; the upper lid follows the eye's vertical rotation.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from gazesite.data.faces import geometry, looks
from gazesite.data.faces.vector_model import SHIFT, SUPERSAMPLE, Look, Pen, on_face

#: Points per lid curve, per iris circle.
_CURVE_POINTS = 24
_CIRCLE_POINTS = 40
#: How far the upper lid follows the eye's vertical rotation (1 = rides on the iris).
_LID_FOLLOW = 0.9


def lid_curves(look: Look, radius: float, side: float, centre: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower lid curves (each (N, 3), inner corner to outer) of one eye, head coordinates."""
    s = np.linspace(-1, 1, _CURVE_POINTS)  # -1 inner corner, +1 outer
    corner_y = -look.canthal_tilt * radius * s
    # Looking down lowers the upper lid with the eye; looking up lifts it.
    up = np.clip(look.lid_up - _LID_FOLLOW * math.sin(pitch), 0.12, 1.1) * radius
    down = np.clip(look.lid_down + 0.25 * math.sin(pitch), 0.15, 0.7) * radius
    upper_y = corner_y - up * (1 - s**2) ** 0.6 * (1 - 0.12 * s)
    lower_y = corner_y + down * (1 - s**2) ** 0.9
    x = centre[0] + side * s * look.eye_half_width
    curves = []
    for y in (upper_y, lower_y):
        dx, dy = x - centre[0], y - centre[1]
        # The lids wrap the eyeball, a little in front of it.
        z = centre[2] + np.sqrt(np.maximum((radius + 0.0008) ** 2 - dx**2 - dy**2, (0.3 * radius) ** 2))
        curves.append(np.stack([x, y, z], axis=-1))
    return curves[0], curves[1]


def circle(centre: np.ndarray, axis: np.ndarray, radius: float, count: int = _CIRCLE_POINTS) -> np.ndarray:
    """Points (count, 3) of a 3D circle around ``axis``."""
    u = np.cross(axis, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    t = np.linspace(0, 2 * math.pi, count, endpoint=False)[:, None]
    return centre + radius * (np.cos(t) * u + np.sin(t) * v)


def draw_eye(pen: Pen, look: Look, side: float, rotation: tuple[float, float]) -> np.ndarray:
    """Draw one eye (side -1 or +1) looking along its optical axis (yaw, pitch, head coordinates); return its opening (head coordinates)."""
    eyes = pen.rig.eyes
    radius = eyes.radius
    centre = np.array([side * eyes.ipd / 2, 0.0, 0.0])
    axis = geometry.direction(*rotation)
    upper, lower = lid_curves(look, radius, side, centre, rotation[1])
    opening = np.concatenate([upper, lower[::-1]])
    pts = pen.fixed(opening)
    x0, y0, w, h = cv2.boundingRect(pts >> SHIFT)
    pad = 2 * SUPERSAMPLE
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(pen.canvas.shape[1], x0 + w + 2 * pad), min(pen.canvas.shape[0], y0 + h + 2 * pad)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return opening
    offset = np.array([x0, y0]) << SHIFT
    window = pen.canvas[y0:y1, x0:x1]
    ball = np.empty_like(window)
    sclera = look.sclera
    ball[:] = sclera
    # Corners and the lid's shadow darken the sclera.
    for corner in (opening[0], opening[_CURVE_POINTS - 1]):
        cv2.circle(
            ball,
            tuple(pen.fixed(corner[None])[0] - offset),
            pen.px(radius * 0.35 * pen.rig.camera.focal / _depth(pen, corner)) << SHIFT,
            looks.shade(sclera, 0.72),
            -1,
            cv2.LINE_AA,
            SHIFT,
        )
    cv2.polylines(ball, [pen.fixed(upper) - offset], False, looks.shade(sclera, 0.62), pen.px(1.2), cv2.LINE_AA, SHIFT)
    cv2.GaussianBlur(ball, (0, 0), SUPERSAMPLE * 0.6, dst=ball)
    _draw_iris(pen, look, ball, offset, centre, axis, radius)
    mask = np.zeros(window.shape[:2], np.uint8)
    cv2.fillPoly(mask, [pts - offset], 255, cv2.LINE_AA, SHIFT)
    keep = (mask.astype(np.float32) / 255)[..., None]
    window[:] = (window * (1 - keep) + ball * keep).astype(np.uint8)
    _draw_lids(pen, look, upper, lower, side)
    return opening


def _depth(pen: Pen, head_point: np.ndarray) -> float:
    """A head point's distance from the camera along its viewing axis (metres)."""
    world = pen.rotation @ head_point + np.asarray(pen.rig.head.position)
    return float(geometry.to_camera(pen.rig.camera, world)[2])


def _draw_iris(pen: Pen, look: Look, ball: np.ndarray, offset: np.ndarray, centre: np.ndarray, axis: np.ndarray, radius: float) -> None:
    """Iris disc with radial texture, collarette, limbal ring, pupil and corneal highlight."""
    rho = look.iris_radius
    disc_centre = centre + math.sqrt(radius**2 - rho**2) * axis
    limbus = pen.fixed(circle(disc_centre, axis, rho)) - offset
    cv2.fillPoly(ball, [limbus], look.iris, cv2.LINE_AA, SHIFT)
    pattern = np.random.default_rng(look.texture_seed)
    inner = circle(disc_centre, axis, look.pupil_radius * 1.1, 36)
    outer = circle(disc_centre, axis, rho * 0.93, 36)
    for i, (a, b) in enumerate(zip(inner, outer, strict=True)):
        tone = looks.shade(look.iris, pattern.uniform(1.2, 1.6) if i % 2 else pattern.uniform(0.55, 0.8))
        cv2.polylines(ball, [pen.fixed(np.stack([a, b])) - offset], False, tone, pen.px(0.35), cv2.LINE_AA, SHIFT)
    collarette = pen.fixed(circle(disc_centre, axis, rho * 0.55)) - offset
    cv2.polylines(ball, [collarette], True, looks.shade(look.iris, 1.5), pen.px(0.3), cv2.LINE_AA, SHIFT)
    cv2.polylines(ball, [limbus], True, looks.shade(look.iris, 0.35), pen.px(0.6), cv2.LINE_AA, SHIFT)
    pupil = pen.fixed(circle(disc_centre + 0.0002 * axis, axis, look.pupil_radius)) - offset
    cv2.fillPoly(ball, [pupil], (8, 8, 10), cv2.LINE_AA, SHIFT)
    # The highlight sits where the cornea's normal halves the angle between light and camera.
    cornea_centre = centre + 0.0056 * axis
    light = pen.to_head(np.array(look.light))
    normal = light + pen.camera_direction(cornea_centre)
    normal /= np.linalg.norm(normal)
    spot = pen.fixed((cornea_centre + 0.0078 * normal)[None])[0] - offset
    cv2.circle(ball, tuple(int(v) for v in spot), pen.px(0.45) << SHIFT, (250, 250, 250), -1, cv2.LINE_AA, SHIFT)


def _draw_lids(pen: Pen, look: Look, upper: np.ndarray, lower: np.ndarray, side: float) -> None:
    """Lash line, lashes, lid crease and lower lid."""
    lash = looks.shade(look.brow, 0.5)
    pen.line(upper, lash, 1.4)
    crease = upper + np.array([0.0, -0.0035, 0.0008])
    pen.line(crease[3:-3], looks.shade(look.skin, 0.72), 0.5)
    pen.line(lower[2:-2], looks.shade(look.skin, 0.78), 0.5)
    for p in upper[6:-2:2]:
        tip = p + np.array([side * 0.0008, -0.0022, 0.0018])
        pen.line(np.stack([p, tip]), lash, 0.35)


def draw_brow(pen: Pen, look: Look, side: float) -> None:
    """A brow: a tapering arched band on the skin above the eye."""
    half = pen.rig.eyes.ipd / 2
    s = np.linspace(0, 1, 14)
    x = side * (half - 0.013 + s * 0.036)
    top = look.brow_y - look.brow_arch * np.sin(math.pi * np.clip(s * 1.25, 0, 1))
    thick = look.brow_thickness * (1.1 - 0.6 * s)
    band = np.concatenate([on_face(look, x, top, 0.002), on_face(look, x, top + thick, 0.002)[::-1]])
    pen.fill(band, look.brow)


def draw_glasses(pen: Pen, look: Look) -> None:
    """Frames, a faintly tinted lens with a reflection streak, the bridge and the temples."""
    if not look.glasses:
        return
    half = pen.rig.eyes.ipd / 2
    depth = 0.024
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    if look.glasses == "round":
        r = 0.023
        rim = np.stack([r * np.cos(t), r * np.sin(t)], axis=-1)
    else:  # a rounded rectangle: a superellipse
        rim = np.stack(
            [0.026 * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.4, 0.016 * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.4], axis=-1
        )
    frame_color = looks.any_color(np.random.default_rng(look.texture_seed + 1), 10, 120)
    inner_edges = []
    for side in geometry.SIDES:
        lens = np.stack([side * half + rim[:, 0], -0.001 + rim[:, 1], np.full(len(t), depth)], axis=-1)
        _tint_lens(pen, look, lens)
        pen.line(lens, frame_color, look.glasses_px, closed=True)
        inner_edges.append(lens[np.argmin(np.abs(lens[:, 0]))])
        outer = lens[np.argmax(np.abs(lens[:, 0]))]
        temple_end = np.array([side * look.head_axes[0] * 1.02, 0.004, look.head_centre[2] + 0.01])
        pen.line(np.stack([outer, temple_end]), frame_color, look.glasses_px)
    a, b = inner_edges
    bridge = np.stack([a, (a + b) / 2 + np.array([0.0, -0.004, 0.004]), b])
    pen.line(bridge, frame_color, look.glasses_px)


def _tint_lens(pen: Pen, look: Look, lens: np.ndarray) -> None:
    """Blend a faint tint over the lens and a brighter diagonal reflection streak."""
    pts = pen.fixed(lens)
    x0, y0, w, h = cv2.boundingRect(pts >> SHIFT)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(pen.canvas.shape[1], x0 + w + 1), min(pen.canvas.shape[0], y0 + h + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    offset = np.array([x0, y0]) << SHIFT
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [pts - offset], 255, cv2.LINE_AA, SHIFT)
    streak = np.zeros_like(mask)
    centre = lens.mean(axis=0)
    band = centre + np.array([[-0.02, -0.02, 0], [-0.012, -0.02, 0], [0.012, 0.02, 0], [0.004, 0.02, 0]])
    cv2.fillPoly(streak, [pen.fixed(band) - offset], 255, cv2.LINE_AA, SHIFT)
    window = pen.canvas[y0:y1, x0:x1].astype(np.float32)
    alpha = (mask.astype(np.float32) / 255 * look.lens_alpha)[..., None]
    window = window * (1 - alpha) + np.array(look.lens_tint, np.float32) * alpha
    shine = (np.minimum(mask, streak).astype(np.float32) / 255 * look.lens_alpha * 1.5)[..., None]
    window = window * (1 - shine) + 250 * shine
    pen.canvas[y0:y1, x0:x1] = np.clip(window, 0, 255).astype(np.uint8)
