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

from gazesite.faces import geometry
from gazesite.faces.raycast_model import EYE0, EYE1, HAIR, NECK, NECK_SHAPE, NOSE, PART0, SKULL, Ellipsoid, Look, ellipsoid_normals, intersect_ellipsoid
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
        mask = part == pid
        if mask.any():
            normals[mask] = ellipsoid_normals(shape, points[mask])
    albedo = np.empty_like(points)
    albedo[:] = look.skin
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    skin = (part != HAIR) & (part != EYE0) & (part != EYE1)
    _paint_features(look, rig, part, points, normals, albedo, skin)
    gloss = np.full(len(points), 0.05, np.float32)
    eyes = geometry.eye_rotations(rig, target)
    for i, (centre, rotation) in enumerate(zip(centres, eyes)):
        mask = part == EYE0 + i
        if mask.any():
            rel = points[mask] - centre
            normals[mask] = rel / rig.eyes.radius  # points on the sphere
            colour, opening = _eye(look, rig.eyes.radius, geometry.SIDES[i], rel, rotation)
            albedo[mask] = colour
            gloss[np.flatnonzero(mask)[opening]] = 0.9
    light = (np.asarray(look.light, np.float32) @ rot).astype(np.float32)  # world -> head
    lambert = np.clip(normals @ light, 0, 1)
    shadow = _shadowed(look, points, normals, light)
    # Eye sockets sit deeper than the ellipsoids say: darken skin around the eyes.
    half = rig.eyes.ipd / 2
    socket = np.exp(-(((np.abs(x) - half - 0.002) / 0.02) ** 2) - ((y + 0.006) / 0.014) ** 2) * (z > -0.04)
    # The eyeball stands forward in its socket: its shadow is lighter than the skin's around it.
    occlusion = 1 - _SOCKET_DEPTH * socket * np.where(skin, 1.0, np.where(part == HAIR, 0.0, _EYE_SHADOW_SHARE))
    direct = lambert * (1 - 0.85 * shadow)
    view = -rays  # unit already
    reflect = 2 * (normals @ light)[:, None] * normals - light
    glint = np.clip(np.einsum("ij,ij->i", reflect, view), 0, 1) ** np.where(gloss > 0.5, 150, 10) * gloss * (1 - shadow)
    colour = albedo * (look.ambient + (1 - look.ambient) * direct)[:, None] * occlusion[:, None] + 255 * glint[:, None]
    return colour.astype(np.float32)


def _paint_features(look: Look, rig: geometry.Rig, part: np.ndarray, points: np.ndarray, normals: np.ndarray, albedo: np.ndarray, skin: np.ndarray) -> None:
    """Hair, brows, lips and nostrils as colour regions on the surfaces."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    boundary = look.hairline + 2.5 * x**2 + np.maximum(0, -z - 0.01) * 1.1
    hair = (part == HAIR) | ((part == SKULL) & (y < boundary) & (look.hair_style != "bald"))
    # Strands: fine stripes running back from the forehead.
    strands = 0.85 + 0.15 * np.sin(900 * x + 40 * z) * np.sin(300 * x - 200 * y)
    albedo[hair] = np.asarray(look.hair, np.float32) * strands[hair, None]
    half = rig.eyes.ipd / 2
    along = (np.abs(x) - half + 0.016) / 0.036  # 0 at the brow's inner end, 1 at the outer
    brow_top = look.brow_y - 0.003 * np.sin(math.pi * np.clip(along, 0, 1))
    brow = skin & (along > 0) & (along < 1) & (y > brow_top - look.brow_height * (1.1 - 0.5 * along)) & (y < brow_top) & (z > -0.03)
    albedo[brow] = look.brow
    mouth = np.clip(1 - (x / look.mouth_width) ** 2, 0, 1)
    lips = skin & (np.abs(y - look.mouth_y) < look.lip_height * np.sqrt(mouth)) & (z > -0.04)
    albedo[lips] = look.lips
    line = skin & (np.abs(y - look.mouth_y - 0.0005 * mouth) < 0.0008) & (np.abs(x) < look.mouth_width * 0.95) & (z > -0.04)
    albedo[line] = np.asarray(look.lips, np.float32) * 0.35
    nostrils = (part == NOSE) & (normals[:, 1] > 0.45) & (np.abs(x) > 0.002) & (np.abs(x) < 0.011)
    albedo[nostrils] = np.asarray(look.skin, np.float32) * 0.25


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


def _shadowed(look: Look, points: np.ndarray, normals: np.ndarray, light: np.ndarray) -> np.ndarray:
    """1 where the brow ridge or the nose blocks the light, else 0."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    # Only the front of the face can be shaded by the brow ridge or the nose.
    near = np.flatnonzero((z > -0.03) & (np.abs(x) < 0.06) & (y > -0.04) & (y < 0.08))
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
