"""Materials and light for the raycast renderer: what colour each ray's hit point is.

Colours are decided on the 3D hit points (head coordinates): hair above the
hairline, brows and lips as bands on the skin, nostrils where the nose faces
down, and on each eyeball the lid aperture, sclera, iris (with a radial
pattern and a dark limbal ring) and pupil as regions around the optical
axis. Light is Lambert plus ambient, with shadows from the brow ridge and
the nose, darker eye sockets, and a specular glint.
"""

from __future__ import annotations

import math

import numpy as np

from gazesite.data.faces import geometry
from gazesite.data.faces.raycast_model import (
    EYE0,
    EYE1,
    HAIR,
    NECK,
    NECK_SHAPE,
    NOSE,
    PART0,
    SKULL,
    Ellipsoid,
    Look,
    ellipsoid_normals,
    hair_boundary,
    intersect_ellipsoid,
)

_SCLERA = np.array((212, 218, 226), np.float32)
_PUPIL = np.array((10, 10, 12), np.float32)
#: How far the upper lid follows the eye's vertical rotation.
_LID_FOLLOW = 0.9
#: How much darker the eye sockets are than the ellipsoids alone make them.
_SOCKET_DEPTH = 0.75
_EYE_SHADOW_SHARE = 0.45


def surface_colours(
    rig: geometry.Rig,
    look: Look,
    target: tuple[float, float],
    part: np.ndarray,
    points: np.ndarray,
    rays: np.ndarray,
    rot: np.ndarray,
    centres: list[np.ndarray],
) -> np.ndarray:
    """Lit colours (N, 3) of hit points (N, 3, head coordinates) on the given parts."""
    shapes: dict[int, Ellipsoid] = {NECK: NECK_SHAPE, SKULL: look.skull, HAIR: look.hair_shell}
    shapes.update({PART0 + i: shape for i, shape in enumerate(look.parts)})
    normals = np.zeros_like(points)
    for pid, shape in shapes.items():
        index = np.flatnonzero(part == pid)
        if len(index):
            normals[index] = ellipsoid_normals(shape, points[index])
    albedo = np.empty_like(points)
    albedo[:] = look.skin
    skin = (part != HAIR) & (part != EYE0) & (part != EYE1)
    # Features live on the front of the face: work on those points only (a fraction of the head's).
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    front = np.flatnonzero((z > -0.045) & (np.abs(x) < 0.075) & (y > -0.05) & (y < 0.1))
    _paint_hair(look, part, points, albedo)
    _paint_features(look, rig, part[front], points[front], normals[front], albedo, front)
    light = (np.asarray(look.light, np.float32) @ rot).astype(np.float32)  # world -> head
    facing = normals @ light
    # Matte skin and hair: a faint, broad sheen (x ** 10 by squaring: cheaper than a power).
    sheen = np.clip(np.einsum("ij,ij->i", 2 * facing[:, None] * normals - light, -rays), 0, 1)
    sheen2 = sheen * sheen
    glint = 0.05 * sheen2 * (sheen2 * sheen2) ** 2
    for i, (centre, rotation) in enumerate(zip(centres, geometry.eye_rotations(rig, target), strict=True)):
        index = np.flatnonzero(part == EYE0 + i)
        if len(index):
            rel = points[index] - centre
            normals[index] = rel / rig.eyes.radius  # points on the sphere
            facing[index] = normals[index] @ light
            colour, opening = _eye(look, rig.eyes.radius, geometry.SIDES[i], rel, rotation)
            albedo[index] = colour
            # The wet cornea: a small, bright glint.
            reflect = 2 * facing[index, None] * normals[index] - light
            glint[index] = np.where(opening, 0.9 * np.clip(np.einsum("ij,ij->i", reflect, -rays[index]), 0, 1) ** 150, 0.0)
    lambert = np.clip(facing, 0, 1)
    shadow = _shadowed(look, points, normals, light, front)
    # Eye sockets sit deeper than the ellipsoids say: darken around the eyes; the eyeball stands
    # forward in its socket, so its own shadow is lighter than the skin's.
    occlusion = np.ones(len(points), np.float32)
    fx, fy = x[front], y[front]
    socket = np.exp(-(((np.abs(fx) - rig.eyes.ipd / 2 - 0.002) / 0.02) ** 2) - ((fy + 0.006) / 0.014) ** 2)
    occlusion[front] = 1 - _SOCKET_DEPTH * socket * np.where(skin[front], 1.0, np.where(part[front] == HAIR, 0.0, _EYE_SHADOW_SHARE))
    lit = (look.ambient + (1 - look.ambient) * lambert * (1 - 0.85 * shadow)) * occlusion
    colour = albedo * lit[:, None] + (255 * glint * (1 - shadow))[:, None]
    return colour.astype(np.float32)


def _paint_hair(look: Look, part: np.ndarray, points: np.ndarray, albedo: np.ndarray) -> None:
    """Hair on the hair shell and on the skull above the hairline, with fine strands."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    on_skull = part == SKULL
    if look.hair_style != "bald":
        on_skull &= y < hair_boundary(look, x, z)
    else:
        on_skull[:] = False
    hair = np.flatnonzero((part == HAIR) | on_skull)
    hx, hy, hz = x[hair], y[hair], z[hair]
    # Strands: fine stripes running back from the forehead.
    strands = 0.85 + 0.15 * np.sin(900 * hx + 40 * hz) * np.sin(300 * hx - 200 * hy)
    albedo[hair] = np.asarray(look.hair, np.float32) * strands[:, None]


def _paint_features(
    look: Look, rig: geometry.Rig, part: np.ndarray, points: np.ndarray, normals: np.ndarray, albedo: np.ndarray, index: np.ndarray
) -> None:
    """Brows, lips and nostrils as colour regions on the front of the face (points index[i] of albedo)."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    skin = (part != HAIR) & (part != EYE0) & (part != EYE1)
    along = (np.abs(x) - rig.eyes.ipd / 2 + 0.016) / 0.036  # 0 at the brow's inner end, 1 at the outer
    brow_top = look.brow_y - 0.003 * np.sin(math.pi * np.clip(along, 0, 1))
    brow = skin & (along > 0) & (along < 1) & (y > brow_top - look.brow_height * (1.1 - 0.5 * along)) & (y < brow_top) & (z > -0.03)
    albedo[index[brow]] = look.brow
    mouth = np.clip(1 - (x / look.mouth_width) ** 2, 0, 1)
    lips = skin & (np.abs(y - look.mouth_y) < look.lip_height * np.sqrt(mouth)) & (z > -0.04)
    albedo[index[lips]] = look.lips
    line = skin & (np.abs(y - look.mouth_y - 0.0005 * mouth) < 0.0008) & (np.abs(x) < look.mouth_width * 0.95) & (z > -0.04)
    albedo[index[line]] = np.asarray(look.lips, np.float32) * 0.35
    nostrils = (part == NOSE) & (normals[:, 1] > 0.45) & (np.abs(x) > 0.002) & (np.abs(x) < 0.011)
    albedo[index[nostrils]] = np.asarray(look.skin, np.float32) * 0.25


def _eye(look: Look, radius: float, side: float, rel: np.ndarray, rotation: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Colours of eyeball points (relative to its centre) and which lie in the lid opening."""
    normal = rel / radius
    s = side * rel[:, 0] / (look.eye_half_width * radius)  # -1 inner corner .. 1 outer
    v = rel[:, 1] / radius
    pitch = rotation[1]
    up = np.clip(look.lid_up - _LID_FOLLOW * math.sin(pitch), 0.1, 1.0)
    down = np.clip(look.lid_down + 0.25 * math.sin(pitch), 0.15, 0.7)
    span = np.clip(1 - s**2, 0, 1)
    upper = -up * span**0.6 - 0.08 * s
    lower = down * span**0.9 - 0.08 * s
    opening = (np.abs(s) < 1) & (v > upper) & (v < lower) & (rel[:, 2] > 0)
    colour = np.empty_like(rel)
    colour[:] = look.skin
    axis = geometry.direction(*rotation).astype(np.float32)
    cos = normal @ axis
    u = np.cross(axis, [0.0, 1.0, 0.0]).astype(np.float32)
    u /= np.linalg.norm(u)
    w = np.cross(axis, u)
    angle = np.arctan2(normal @ w, normal @ u)
    radial = np.arccos(np.clip(cos, -1, 1)) / look.iris_angle  # 0 at the iris centre, 1 at the limbus
    phase = (look.iris_seed % 1000) / 1000 * 2 * math.pi
    texture = 0.8 + 0.25 * np.sin(37 * angle + phase) * np.sin(9 * radial + 3 * np.sin(5 * angle))
    limbal = np.clip((radial - 0.8) / 0.2, 0, 1)
    iris = np.asarray(look.iris, np.float32) * (texture * (1 - 0.6 * limbal))[:, None]
    sclera = _SCLERA * (1 - 0.35 * s**2)[:, None] * 0.8
    inside = np.where((cos > math.cos(look.pupil_angle))[:, None], _PUPIL, np.where((radial < 1)[:, None], iris, sclera))
    colour[opening] = inside[opening]
    # The upper lid's margin and lashes: a dark line along the opening's top.
    lash = (np.abs(s) < 1) & (v > upper - 0.16) & (v <= upper + 0.04) & (rel[:, 2] > 0)
    colour[lash] = np.asarray(look.brow, np.float32) * 0.6
    return colour, opening & ~lash


def _shadowed(look: Look, points: np.ndarray, normals: np.ndarray, light: np.ndarray, near: np.ndarray) -> np.ndarray:
    """1 where the brow ridge or the nose blocks the light, else 0; only points ``near`` (the face's front) can be."""
    shadow = np.zeros(len(points), np.float32)
    if len(near):
        origin = points[near] + normals[near] * 1e-4
        dirs = np.broadcast_to(light, origin.shape)
        blocked = np.zeros(len(near), bool)
        for shape in (look.parts[0], look.parts[1]):
            t = intersect_ellipsoid(shape, origin, dirs)
            blocked |= np.isfinite(t) & (t < 0.2)
        shadow[near] = blocked
    return shadow
