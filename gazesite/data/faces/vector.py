"""Renderer "vector": a 2D OpenCV drawing of a projected 3D head.

Head, hair, ears, brows, lids, iris, nose, mouth, beard and glasses are 3D
points and curves in head coordinates (:mod:`gazesite.data.faces.geometry`),
projected through the person's webcam and filled as anti-aliased polygons on
a supersampled canvas: yaw, pitch and roll change the outline and where the
features sit, with foreshortening. Light is 2D: a pseudo-sphere normal per
pixel of the head's outline, lit Lambert-style from a direction, plus soft
drawn shadows (eye sockets, nose, lips). Skin texture is smooth noise fixed
to the face; the room behind is cluttered (:mod:`gazesite.data.faces.room`).

Unlike cartoon (flat ellipses placed in the image), nothing is placed in 2D;
unlike raycast (per-pixel ray casting), everything is drawn as polygons.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import cv2
import numpy as np

from gazesite.data.faces import geometry, looks
from gazesite.data.faces.looks import Color
from gazesite.data.faces.room import room
from gazesite.data.faces.vector_eyes import circle, draw_brow, draw_eye, draw_glasses
from gazesite.data.faces.vector_model import EGG_COLS, EGG_ROWS, SHIFT, SUPERSAMPLE, Look, Pen, Person, egg_points, on_face, random_look

#: Texture tile size (texels) mapped onto the face's ellipse.
_TEXTURE_SIZE = 64
#: The socket's shadow falls less on the eye itself (the eyeball stands forward in the socket).
_EYE_SHADOW_RELIEF = 0.6
# The Haar cascade finds faces by a dark band over the eyes, lighter cheeks and a light nose
# bridge; these strengths were tuned on its detection rate (see tests/unit/data/test_faces.py).
#: Eye sockets: darkening, and the ellipse's half width (in eye half widths) and half height (m).
_SOCKET_DARKNESS, _SOCKET_WIDTH, _SOCKET_HEIGHT = 0.7, 1.5, 0.016
#: Lit cheekbones: brightening below the eyes.
_CHEEK_LIGHT = 0.2
#: The nose's lit ridge: brightness factor and width (frame pixels).
_RIDGE_LIGHT, _RIDGE_WIDTH = 1.25, 1.6
#: How fast the hairline rises toward the temples (m per m squared) and drops toward the back (m per m).
_HAIRLINE_CURVE, _HAIR_DROP_BACK = 2.0, 1.0


def random_person(rng: np.random.Generator) -> Person:
    """A random person in front of a random screen and webcam."""
    return Person(geometry.random_rig(rng), random_look(rng))


def unseen_person(rng: np.random.Generator) -> Person:
    """A person whose eye spacing, kappa, face size and webcam position lie outside the training ranges."""
    return Person(geometry.unseen_rig(rng), random_look(rng))


def jitter(person: Person, rng: np.random.Generator) -> Person:
    """The same person moved a little, as between two webcam frames."""
    return replace(person, rig=geometry.jitter_rig(person.rig, rng))


def render(person: Person, target: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """One webcam frame (uint8 RGBA) of the person looking at target (0..1 of the screen); rng drives sensor noise only."""
    rig, look = person.rig, person.look
    width, height = rig.camera.width, rig.camera.height
    background = room(look.room_seed, width, height)
    canvas = cv2.resize(background.astype(np.uint8), (width * SUPERSAMPLE, height * SUPERSAMPLE), interpolation=cv2.INTER_NEAREST)
    pen = Pen(rig, canvas)
    _draw_body(pen, look)
    outline = _draw_head(pen, look)
    if look.beard:
        _draw_beard(pen, look)
    openings = []
    for side, rotation in zip(geometry.SIDES, geometry.eye_rotations(rig, target), strict=True):
        draw_brow(pen, look, side)
        openings.append(draw_eye(pen, look, side, rotation))
    _draw_nose(pen, look)
    _draw_mouth(pen, look)
    _draw_front_hair(pen, look)
    draw_glasses(pen, look)
    frame: np.ndarray = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    frame = _light(frame, pen, look, outline, openings)
    frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), look.blur_sigma), dtype=np.float32)
    frame += np.asarray(rng.normal(0, look.noise_sigma, frame.shape), dtype=np.float32)
    return cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGBA)


def _hairline(look: Look, x: np.ndarray) -> np.ndarray:
    """y of the hairline across the forehead: higher at the temples."""
    return look.hairline + _HAIRLINE_CURVE * x**2


def _hair_boundary(look: Look, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """y of the hair's edge on the skull: the hairline in front, lower toward the back."""
    return _hairline(look, x) + np.maximum(0, -z) * _HAIR_DROP_BACK


def _draw_body(pen: Pen, look: Look) -> None:
    """Shoulders in clothes, then the neck."""
    cz = look.head_centre[2]
    x = np.linspace(-0.21, 0.21, 15)
    y = 0.19 + 0.1 * (x / 0.21) ** 2
    shoulders = np.concatenate([np.stack([x, y, np.full_like(x, z)], axis=-1) for z in (cz - 0.09, cz + 0.09)])
    pen.hull(np.concatenate([shoulders, shoulders + np.array([0, 0.3, 0])]), look.clothes)
    t = np.linspace(0, 2 * math.pi, 16, endpoint=False)
    ring = np.stack([0.055 * np.cos(t), np.zeros_like(t), cz + 0.01 + 0.05 * np.sin(t)], axis=-1)
    pen.hull(np.concatenate([ring + np.array([0, 0.04, 0]), ring + np.array([0, 0.22, 0])]), looks.shade(look.skin, 0.72))


def _draw_head(pen: Pen, look: Look) -> np.ndarray:
    """Back hair, ears, then the head as a mesh of camera-facing quads (hair or skin); return the skull's outline in frame pixels."""
    egg = egg_points(look)
    centre = np.array(look.head_centre)
    rel = egg - centre
    ax = look.head_axes[0]
    style = look.hair_style
    hair = look.hair
    if style == "buzz":
        hair = looks.as_color(0.7 * h + 0.3 * s for h, s in zip(look.hair, look.skin, strict=True))
    elif style == "bald":
        hair = looks.shade(look.skin, 0.95)
    if style == "long":
        hang = np.array([[s * ax * f, 0.22, centre[2] - 0.03] for s in (-1, 1) for f in (1.0, 1.35)])
        pen.hull(np.concatenate([egg[rel[:, 1] < 0.03] * [1.08, 1.0, 1.0], hang]), hair)
    ears = [_ear(look, side) for side in geometry.SIDES]
    # An ear turned toward the camera shows in front of the head's side; the other hides behind it.
    facing = [
        float(np.dot([side, 0.0, 0.0], pen.camera_direction(ear.mean(axis=0)))) > 0.3
        for side, ear in zip(geometry.SIDES, ears, strict=True)
    ]
    for ear, front in zip(ears, facing, strict=True):
        if not front:
            pen.fill(ear, looks.shade(look.skin, 0.86))
    above = egg[:, 1] - _hair_boundary(look, egg[:, 0], egg[:, 2])  # < 0 under the hair
    cap = above < 0
    if style == "curly":
        radius = pen.px(pen.rig.camera.focal * 0.018 / _head_depth(pen)) << SHIFT
        for point in pen.fixed(egg[cap][::3] + rel[cap][::3] * 0.12):
            cv2.circle(pen.canvas, tuple(int(v) for v in point), radius, looks.shade(hair, 0.85), -1, cv2.LINE_AA, SHIFT)
    grown = egg + cap[:, None] * rel / np.linalg.norm(rel, axis=1, keepdims=True) * look.hair_volume
    pen.hull(grown, hair)  # the anti-aliased outline; the mesh colours the inside
    _draw_mesh(pen, look, grown, above, hair)
    for ear, front in zip(ears, facing, strict=True):
        if front:
            pen.fill(ear, looks.shade(look.skin, 0.86))
    skull = pen.pixels(egg)
    return cv2.convexHull(skull.astype(np.float32)).reshape(-1, 2)


def _ear(look: Look, side: float) -> np.ndarray:
    """An ear's outline (head coordinates): an upright oval standing off the side of the head."""
    t = np.linspace(0, 2 * math.pi, 16, endpoint=False)
    ax, cz = look.head_axes[0], look.head_centre[2]
    return np.stack([side * (ax + 0.006 + 0.004 * np.cos(t)), 0.016 + 0.028 * np.sin(t), cz + 0.004 + 0.016 * np.cos(t)], axis=-1)


def _draw_mesh(pen: Pen, look: Look, points: np.ndarray, above: np.ndarray, hair: Color) -> None:
    """Fill the egg's quads that face the camera, far ones first: hair where ``above`` < 0 (under the hair), skin elsewhere.

    Quads, not a hull: the hairline is not convex (temples, sideburns), and
    a turned head must show skin, not hair, below the hair on its side. A
    quad the hairline crosses is cut along it (linear between corners), so
    the hairline is a smooth curve, not a staircase of quads.
    """
    rows, cols = EGG_ROWS, EGG_COLS
    grid = pen.fixed(points).reshape(rows, cols, 2)
    level = above.reshape(rows, cols)
    world = points @ pen.rotation.T + np.asarray(pen.rig.head.position)
    to_camera = (np.asarray(pen.rig.camera.position) - world).reshape(rows, cols, 3)
    rel = (points - np.array(look.head_centre)).reshape(rows, cols, 3)
    normals = rel / np.square(np.array(look.head_axes))  # the ellipsoid's gradient: close enough for culling
    normals = normals @ pen.rotation.T
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols), indexing="ij")
    c1 = (c + 1) % cols
    corner_normals = normals[r, c] + normals[r, c1] + normals[r + 1, c] + normals[r + 1, c1]
    view = to_camera[r, c] + to_camera[r + 1, c1]
    visible = np.einsum("ijk,ijk->ij", corner_normals, view) > 0
    distance = np.linalg.norm(view, axis=-1)
    for i in np.argsort(-distance[visible], kind="stable"):
        ri, ci = r[visible][i], c[visible][i]
        cj = (ci + 1) % cols
        corners = [(ri, ci), (ri, cj), (ri + 1, cj), (ri + 1, ci)]
        quad = np.stack([grid[k] for k in corners])
        levels = np.array([level[k] for k in corners])
        if np.all(levels < 0):
            cv2.fillPoly(pen.canvas, [quad], hair, cv2.LINE_8, SHIFT)
            continue
        cv2.fillPoly(pen.canvas, [quad], look.skin, cv2.LINE_8, SHIFT)
        if np.any(levels < 0):
            cv2.fillPoly(pen.canvas, [_under(quad, levels)], hair, cv2.LINE_AA, SHIFT)


def _under(quad: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The part of a quad (4, 2 fixed-point) where the level, linear along its edges, is below 0."""
    part = []
    for a in range(4):
        b = (a + 1) % 4
        if levels[a] < 0:
            part.append(quad[a])
        if (levels[a] < 0) != (levels[b] < 0):
            t = levels[a] / (levels[a] - levels[b])
            part.append(np.round(quad[a] + t * (quad[b] - quad[a])).astype(np.int32))
    return np.array(part, np.int32)


def _draw_front_hair(pen: Pen, look: Look) -> None:
    """A fringe over the forehead, or long strands framing the face."""
    ax = look.head_axes[0]
    if look.hair_style == "fringe":
        x = np.linspace(-0.068, 0.068, 25)
        # A soft wave of locks, ending well above the brows (a jagged edge over the eyes hides the face).
        reach = (look.brow_y - look.hairline) * (0.35 + 0.08 * np.cos(x * 260) - 40 * x**2)
        top = on_face(look, x, _hairline(look, x) - 0.012, 0.004)
        bottom = on_face(look, x, _hairline(look, x) + reach, 0.004)
        pen.fill(np.concatenate([top, bottom[::-1]]), looks.shade(look.hair, 0.95))
    elif look.hair_style == "long":
        z = look.head_centre[2] + 0.35 * look.head_axes[2]
        for side in geometry.SIDES:
            strand = np.array(
                [
                    [side * ax * 0.92, look.hairline + 0.012, z],
                    [side * ax * 1.2, look.hairline, z],
                    [side * ax * 1.3, 0.2, z - 0.02],
                    [side * ax * 1.02, 0.14, z],
                ]
            )
            pen.fill(strand, looks.shade(look.hair, 0.92))


def _draw_beard(pen: Pen, look: Look) -> None:
    """Beard over jaw and chin, and a moustache, as hair blended into skin."""
    color = looks.as_color(s * (1 - look.beard) + h * look.beard for s, h in zip(look.skin, look.hair, strict=True))
    egg = egg_points(look)
    rel = egg - np.array(look.head_centre)
    lower = egg[(rel[:, 2] > 0.3 * look.head_axes[2]) & (egg[:, 1] > look.mouth_y - 0.004)]
    pen.hull(lower, color)
    x = np.linspace(-look.mouth_width * 1.15, look.mouth_width * 1.15, 9)
    top = look.mouth_y - look.lip_thickness
    band = np.concatenate([on_face(look, x, top - 0.009 + 0.004 * (x / x[-1]) ** 2, 0.005), on_face(look, x[::-1], np.full(9, top), 0.006)])
    pen.fill(band, color)


def _draw_nose(pen: Pen, look: Look) -> None:
    """Lit ridge, tip, alae and dark nostrils."""
    length, width = look.nose_length, look.nose_width
    y = np.linspace(0.006, length - 0.006, 8)
    ridge = np.stack([np.zeros_like(y), y, look.head_centre[2] + look.head_axes[2] + 0.004 + 0.016 * y / length], axis=-1)
    pen.line(ridge, looks.shade(look.skin, _RIDGE_LIGHT), _RIDGE_WIDTH)
    tip = np.array([0.0, length - 0.003, ridge[-1, 2] + 0.003])
    pen.fill(circle(tip, np.array([0.0, 0.0, 1.0]), width * 0.32, 20), looks.shade(look.skin, 1.05))
    for side in geometry.SIDES:
        ala = on_face(look, side * width * 0.55, length + 0.001, 0.008)
        pen.fill(circle(ala, np.array([0.0, 0.0, 1.0]), width * 0.26, 16), looks.shade(look.skin, 0.88))
        t = np.linspace(0, 2 * math.pi, 14, endpoint=False)
        nostril = on_face(look, side * width * 0.3 + width * 0.2 * np.cos(t), length + 0.004 + 0.0018 * np.sin(t), 0.011)
        pen.fill(nostril, looks.shade(look.skin, 0.35))


def _draw_mouth(pen: Pen, look: Look) -> None:
    """Upper and lower lips with a dark line between them."""
    x = np.linspace(-look.mouth_width, look.mouth_width, 21)
    s = x / look.mouth_width
    thick, y0 = look.lip_thickness, look.mouth_y
    top = y0 - thick * 0.9 * (1 - s**2) ** 0.7 + 0.0015 * np.exp(-((x / 0.005) ** 2))
    line = y0 + 0.0006 * (1 - s**2)
    bottom = y0 + thick * 1.2 * (1 - s**2) ** 0.6
    pen.fill(np.concatenate([on_face(look, x, top, 0.006), on_face(look, x[::-1], line[::-1], 0.006)]), looks.shade(look.lips, 0.85))
    pen.fill(np.concatenate([on_face(look, x, line, 0.006), on_face(look, x[::-1], bottom[::-1], 0.006)]), look.lips)
    pen.line(on_face(look, x, line, 0.006), looks.shade(look.lips, 0.4), 0.6)


def _shadow_map(pen: Pen, look: Look, shape: tuple[int, int], openings: list[np.ndarray]) -> np.ndarray:
    """Soft darkening (0..1, frame size) of eye sockets (less on the eyes themselves), the nose's dark side, under the nose and the lower lip."""
    shadow = np.zeros(shape, np.uint8)

    def fill(points: np.ndarray, strength: float) -> None:
        """Fill the projected polygon with a strength (0..1)."""
        pts = np.round(pen.pixels(points) * (1 << SHIFT)).astype(np.int32)
        cv2.fillPoly(shadow, [pts], int(255 * strength), cv2.LINE_AA, SHIFT)

    t = np.linspace(0, 2 * math.pi, 24, endpoint=False)
    half = pen.rig.eyes.ipd / 2
    for side in geometry.SIDES:
        # A little above the eye: the orbit under the brow is the deepest part.
        fill(
            on_face(look, side * half + look.eye_half_width * _SOCKET_WIDTH * np.cos(t), -0.004 + _SOCKET_HEIGHT * np.sin(t)),
            _SOCKET_DARKNESS,
        )
    away = -1.0 if pen.to_head(np.array(look.light))[0] > 0 else 1.0
    length, width = look.nose_length, look.nose_width
    fill(on_face(look, [away * 0.003, away * 0.003, away * width * 0.6, away * 0.009], [0.004, length, length, 0.006], 0.006), 0.25)
    fill(on_face(look, width * 0.9 * np.cos(t), length + 0.008 + 0.004 * np.sin(t)), 0.3)
    fill(on_face(look, look.mouth_width * 0.6 * np.cos(t), look.mouth_y + look.lip_thickness * 1.2 + 0.006 + 0.0035 * np.sin(t)), 0.22)
    sigma = max(1.0, 0.03 * pen.rig.camera.focal * geometry.FACE_WIDTH_M / _head_depth(pen))
    dark: np.ndarray = cv2.GaussianBlur(shadow.astype(np.float32) / 255, (0, 0), sigma)
    shadow[:] = 0
    for opening in openings:
        fill(opening, 1.0)
    dark *= 1 - _EYE_SHADOW_RELIEF * cv2.GaussianBlur(shadow.astype(np.float32) / 255, (0, 0), 0.7)
    shadow[:] = 0
    for side in geometry.SIDES:
        fill(on_face(look, side * (half + 0.006) + 0.016 * np.cos(t), 0.03 + 0.011 * np.sin(t)), _CHEEK_LIGHT)
    light = cv2.GaussianBlur(shadow.astype(np.float32) / 255, (0, 0), sigma * 1.5)
    return dark - light


def _head_depth(pen: Pen) -> float:
    """The head's distance from the camera along its viewing axis (metres)."""
    return float(geometry.to_camera(pen.rig.camera, np.array(pen.rig.head.position))[2])


@functools.lru_cache(maxsize=32)
def _skin_texture(seed: int) -> np.ndarray:
    """Smooth multiplicative noise (around 0) at three scales, fixed per person."""
    rng = np.random.default_rng(seed)
    size = _TEXTURE_SIZE
    tex = np.zeros((size, size), np.float32)
    for cells, amplitude in ((5, 0.05), (14, 0.025), (size, 0.015)):
        tex += amplitude * cv2.resize(rng.normal(0, 1, (cells, cells)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    tex.setflags(write=False)
    return tex


def _light(frame: np.ndarray, pen: Pen, look: Look, outline: np.ndarray, openings: list[np.ndarray]) -> np.ndarray:
    """Shade the head as a lit pseudo-sphere, darken the drawn shadows, add skin texture, then auto-expose."""
    height, width = frame.shape[:2]
    (cx, cy), (aw, ah), angle = cv2.fitEllipse(outline.astype(np.float32))
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [np.round(outline * (1 << SHIFT)).astype(np.int32)], 255, cv2.LINE_AA, SHIFT)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), 1.5)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    theta = math.radians(angle)
    dx, dy = xx - cx, yy - cy
    px = (dx * math.cos(theta) + dy * math.sin(theta)) / (aw / 2)
    py = (-dx * math.sin(theta) + dy * math.cos(theta)) / (ah / 2)
    # Back to image axes: the pseudo-normal of a sphere seen through this ellipse.
    nx = px * math.cos(theta) - py * math.sin(theta)
    ny = px * math.sin(theta) + py * math.cos(theta)
    nz = -np.sqrt(np.clip(1 - px**2 - py**2, 0, 1))
    light = np.asarray(pen.rig.camera.rotation) @ np.array(look.light)
    lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    k = look.light_strength
    factor = 1 + soft * ((1 - k) + k * 1.3 * lambert - 1)
    factor *= 1 - _shadow_map(pen, look, (height, width), openings)
    texture = cv2.warpAffine(
        _skin_texture(look.texture_seed), _texture_transform(cx, cy, aw, ah, theta), (width, height), flags=cv2.INTER_LINEAR
    )
    frame *= (factor * (1 + texture * soft))[..., None]
    # Webcams expose for the face: a dark face in a bright room is brightened, and the reverse.
    face = soft > 0.5
    level = float(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[face].mean()) if face.any() else look.exposure
    return frame * float(np.clip(look.exposure / max(level, 1.0), 0.6, 2.6))


def _texture_transform(cx: float, cy: float, aw: float, ah: float, theta: float) -> np.ndarray:
    """Affine map from texture texels onto the face's ellipse (so the texture moves with the face)."""
    scale_x, scale_y = aw / _TEXTURE_SIZE, ah / _TEXTURE_SIZE
    c, s = math.cos(theta), math.sin(theta)
    linear = np.array([[c * scale_x, -s * scale_y], [s * scale_x, c * scale_y]])
    offset = np.array([cx, cy]) - linear @ np.array([_TEXTURE_SIZE / 2, _TEXTURE_SIZE / 2])
    return np.hstack([linear, offset[:, None]]).astype(np.float32)
