"""Renderer "studio": shaded 2.5D portraits of people unlike any training face, for testing only (never trained on).

It exists to measure accuracy on the faces real webcam visitors bring and
the training renderers do not draw: long and narrow or short and wide heads,
eyes set high or low and close or wide (:mod:`gazesite.data.faces.studio_model`
has the ranges), glasses with reflecting lenses on half the people, the
whole skin-tone palette, a strong light from one side, exposure from dim to
bright, many heads turned 10-20 degrees away from the webcam, and a webcam's
noise, blur and JPEG blocks.

How it draws: the head is one ellipsoid whose outline and per-pixel surface
normals come in closed form (:mod:`gazesite.data.faces.studio_shading`),
lit Lambert-style by the side light plus a fill; eyes, glasses, brows, nose
and mouth are projected 3D curves (:mod:`gazesite.data.faces.studio_face`),
and the irises sit on each eye's optical axis from
:mod:`gazesite.data.faces.geometry`, so the gaze labels are exact. No ray
is cast (unlike raycast) and nothing is placed in 2D (unlike cartoon).
"""

from __future__ import annotations

import functools
from dataclasses import replace

import cv2
import numpy as np

from gazesite.data.faces import geometry
from gazesite.data.faces.looks import shade
from gazesite.data.faces.studio_face import SCALE, SHIFT, Pen, draw_ears, draw_eye, draw_features, draw_glasses, glare_bands, lens_rims
from gazesite.data.faces.studio_model import TORSO_AXES, TORSO_OFFSET, Look, Person, chin_y, light_direction, random_look, turn_head
from gazesite.data.faces.studio_shading import Shading, ellipse_box, outline, shade_ellipsoid

#: BGR weights of OpenCV's grey conversion.
_GREY = np.array([0.114, 0.587, 0.299], np.float32)
#: The neck, head coordinates (it turns with the head): centre below the head's centre, and semi-axes.
_NECK_BELOW, _NECK_AXES = 0.75, (0.05, 0.075, 0.05)
#: Darkening at the middle of each eye socket, and brightening of the cheekbones.
_SOCKET_DEPTH, _CHEEK_LIGHT = 0.75, 0.25
#: The face's share of what the webcam meters its exposure on (the rest is the whole frame).
_FACE_WEIGHT = 0.75
#: How far the webcam's gain may go to reach the look's exposure.
_GAIN = (0.5, 4.0)


def random_person(rng: np.random.Generator) -> Person:
    """A random person in front of a random screen and webcam, head posed the studio's way."""
    return _person(geometry.random_rig(rng), rng)


def unseen_person(rng: np.random.Generator) -> Person:
    """A person whose eye spacing, kappa, face size and webcam position lie outside the training ranges."""
    return _person(geometry.unseen_rig(rng), rng)


def _person(rig: geometry.Rig, rng: np.random.Generator) -> Person:
    """A person on the rig with a studio look and head pose; the torso stays where it is when the head moves."""
    look = random_look(rng, rig.eyes.ipd)
    torso = np.asarray(rig.head.position) + np.array(TORSO_OFFSET)
    return Person(turn_head(rig, rng), look, geometry.as_vec(torso))


def jitter(person: Person, rng: np.random.Generator) -> Person:
    """The same person moved a little, as between two webcam frames."""
    return replace(person, rig=geometry.jitter_rig(person.rig, rng))


def render(person: Person, target: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """One webcam frame (uint8 RGBA) of the person looking at target (0..1 of the screen); rng drives sensor noise only."""
    rig, look = person.rig, person.look
    camera = rig.camera
    canvas = _backdrop(camera, look, person.torso).copy()
    level = _draw_head(canvas, rig, look, target, light_direction(look))
    frame = cv2.resize(canvas, (camera.width, camera.height), interpolation=cv2.INTER_AREA)
    # The webcam's gain brings a centre-weighted mean (face and whole frame) to the look's exposure: a dim scene
    # gets more gain, and more noise; a dark face before a light backdrop stays darker than the backdrop.
    metered = _FACE_WEIGHT * level + (1 - _FACE_WEIGHT) * float(np.mean(frame @ _GREY))
    gain = float(np.clip(look.exposure / max(metered, 1.0), *_GAIN))
    frame = cv2.GaussianBlur(frame, (0, 0), look.blur_sigma) * gain
    frame += rng.standard_normal(frame.shape, dtype=np.float32) * np.float32(look.noise_sigma * gain)
    out: np.ndarray = np.clip(frame + 0.5, 0, 255).astype(np.uint8)
    if look.jpeg_quality:  # the webcam's (or the browser's) compression: 8 x 8 blocks, halved colour resolution
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, look.jpeg_quality])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:  # None only if OpenCV cannot read back what it just encoded
            out = decoded
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGBA)


@functools.lru_cache(maxsize=8)
def _backdrop(camera: geometry.Camera, look: Look, torso: tuple[float, float, float]) -> np.ndarray:
    """What stays put while the head moves (BGR float32 canvas): a plain or graded backdrop and the shoulders."""
    height, width = camera.height * SCALE, camera.width * SCALE
    angle = look.backdrop_angle
    xs = (np.arange(width, dtype=np.float32) - width / 2) * np.float32(np.cos(angle) / width)
    ys = (np.arange(height, dtype=np.float32) - height / 2) * np.float32(np.sin(angle) / width)
    along = np.clip(0.5 + xs[None, :] + ys[:, None], 0, 1)[..., None]
    start, end = (np.asarray(colour, np.float32) for colour in look.backdrop)
    canvas = start + (end - start) * along
    _paint_ellipsoid(canvas, camera, np.asarray(torso), np.diag(TORSO_AXES), look, light_direction(look), look.clothes)
    canvas.setflags(write=False)
    return canvas


def _paint_ellipsoid(
    canvas: np.ndarray,
    camera: geometry.Camera,
    centre: np.ndarray,
    axes: np.ndarray,
    look: Look,
    toward_light: np.ndarray,
    colour: tuple[float, ...],
) -> None:
    """Paint a lit ellipsoid of one colour onto the canvas."""
    box = ellipse_box(camera, centre, axes, 0.0, SCALE)
    if box is None or geometry.to_camera(camera, centre)[2] <= 0.05:
        return
    field = shade_ellipsoid(camera, centre, axes, (toward_light, look.key, look.fill), box, SCALE)
    _composite(canvas, box, field.light[..., None] * np.asarray(colour, np.float32), field.cover)


def _draw_neck(canvas: np.ndarray, rig: geometry.Rig, look: Look, toward_light: np.ndarray) -> None:
    """The neck: an ellipsoid below the head that turns with it."""
    rot = geometry.rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll)
    _, cy, cz = look.head_centre
    centre = geometry.head_to_world(rig.head, np.array([0.0, cy + _NECK_BELOW * look.head_axes[1], cz + 0.01]))
    _paint_ellipsoid(canvas, rig.camera, centre, rot @ np.diag(_NECK_AXES), look, toward_light, shade(look.skin, 0.8))


def _head(rig: geometry.Rig, look: Look) -> tuple[np.ndarray, np.ndarray]:
    """The head ellipsoid's world centre and world semi-axis vectors (columns)."""
    rot = geometry.rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll)
    return geometry.head_to_world(rig.head, np.asarray(look.head_centre)), rot @ np.diag(look.head_axes)


def _draw_head(canvas: np.ndarray, rig: geometry.Rig, look: Look, target: tuple[float, float], toward_light: np.ndarray) -> float:
    """Draw hair, ears, face, features and glasses, lit, onto the canvas; return the face's mean grey level."""
    centre, axes = _head(rig, look)
    box = ellipse_box(rig.camera, centre, axes, 2.5 * look.hair_volume + 0.25, SCALE)
    if box is None or geometry.to_camera(rig.camera, centre)[2] <= 0.05:
        return look.exposure
    relief = functools.partial(_relief, rig, look, toward_light)
    field = shade_ellipsoid(rig.camera, centre, axes, (toward_light, look.key, look.fill), box, SCALE, relief)
    pen = Pen(rig, look, box)
    # Hair behind the head goes down first and the neck in front of it: long hair falls behind the neck.
    if _draw_back_hair(pen, centre, axes):
        _composite(canvas, box, pen.image.astype(np.float32) * field.light[..., None], pen.cover.astype(np.float32) / 255)
        pen = Pen(rig, look, box)
    _draw_neck(canvas, rig, look, toward_light)
    draw_ears(pen)
    _paint_face(pen, field)
    draw_features(pen, toward_light)
    glints = [draw_eye(pen, i, rotation, toward_light) for i, rotation in enumerate(geometry.eye_rotations(rig, target))]
    rims = lens_rims(pen)
    draw_glasses(pen, rims)
    lit = pen.image.astype(np.float32) * field.light[..., None]
    _lens_glare(pen, rims, lit)
    for glint in glints:  # on top of the light: the key light's own reflection
        if glint is not None:
            x, y = pen.fixed(glint[None])[0]
            cv2.circle(lit, (int(x), int(y)), pen.width(0.0006) << SHIFT, (235.0, 240.0, 245.0), -1, cv2.LINE_8, SHIFT)
    _composite(canvas, box, lit, np.maximum(pen.cover.astype(np.float32) / 255, field.cover))
    face = field.cover
    return float(((lit @ _GREY) * face).sum() / max(face.sum(), 1.0))


def _composite(canvas: np.ndarray, box: tuple[int, int, int, int], colour: np.ndarray, cover: np.ndarray) -> None:
    """Lay a box-sized colour layer (float32 BGR) over the canvas where cover (0..1) says."""
    x0, y0, x1, y1 = box
    region = canvas[y0:y1, x0:x1]
    region[:] = cv2.blendLinear(region, colour, 1 - cover, cover)


def _draw_back_hair(pen: Pen, centre: np.ndarray, axes: np.ndarray) -> bool:
    """Hair reaching beyond the head's outline: a grown, raised ellipsoid's outline cut flat below; False if none."""
    look = pen.look
    if look.hair_style == "shaved":
        return False
    volume = look.hair_volume
    ay = look.head_axes[1]
    grow, raise_by, cut = {
        "short": (1 + 0.5 * volume, 0.25 * volume, 0.0),
        "long": (1 + volume, -0.25, 1.0),
        "curly": (1 + 2.5 * volume, 0.6 * volume, -0.05),
    }[look.hair_style]
    rot = geometry.rotation_matrix(pen.rig.head.yaw, pen.rig.head.pitch, pen.rig.head.roll)
    shell_centre = centre - rot @ np.array([0.0, raise_by * ay, 0.0])
    shell = np.round(((outline(pen.rig.camera, shell_centre, axes * grow) + 0.5) * SCALE - 0.5 - np.array(pen.box[:2])) * (1 << SHIFT))
    points = shell.astype(np.int32)
    # Cut at the height (in the image) of a point ``cut`` head semi-axes below the head's centre.
    cut_y = pen.fixed(np.array([[0.0, look.head_centre[1] + cut * ay, look.head_centre[2]]]))[0, 1]
    points[:, 1] = np.minimum(points[:, 1], cut_y)
    cv2.fillPoly(pen.image, [points], look.hair, cv2.LINE_AA, SHIFT)
    cv2.fillPoly(pen.cover, [points], 255, cv2.LINE_AA, SHIFT)
    return True


def _paint_face(pen: Pen, field: Shading) -> None:
    """Skin over the head's outline, hair above the hairline (and down the sides for long hair)."""
    look = pen.look
    sx, sy = field.x, field.y
    limit = look.hairline + 0.25 * sx * sx
    low = {"long": 0.3, "curly": 0.1}.get(look.hair_style)
    if low is not None:  # hair down the sides of the head, to the ears or below
        side = np.clip((np.abs(sx) - 0.86) * 12.5, 0, 1)
        limit += side * (low - limit)
    hair = np.clip((limit - sy) * 14, 0, 1) * (0.35 if look.hair_style == "shaved" else 1.0)
    strands = hair * (0.88 + 0.12 * np.sin(70 * sx + 25 * sy))
    skin = 1 - hair
    colour = cv2.merge([skin * s + strands * h for s, h in zip(look.skin, look.hair, strict=True)])
    pen.image[:] = cv2.blendLinear(pen.image.astype(np.float32), colour, 1 - field.cover, field.cover) + 0.5


def _relief(rig: geometry.Rig, look: Look, toward_light: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """What one ellipsoid's shading misses at surface points (sx, sy): deep eye sockets, lit cheekbones, the nose's shadows.

    The Haar cascade finds a face by a dark band across the eyes above lighter
    cheeks; these soft terms, placed on the head's surface, keep that pattern.
    """
    ax, ay, _ = look.head_axes
    cy = look.head_centre[1]
    light = geometry.rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll).T @ toward_light
    away = -1.0 if light[0] > 0 else 1.0
    nose_y = look.nose_share * chin_y(look)
    # Each term: head point (x, y), half widths (m), strength (> 0 darkens).
    terms = [(side * rig.eyes.ipd / 2, -0.004, 0.021, 0.014, _SOCKET_DEPTH) for side in geometry.SIDES]
    terms += [(side * (rig.eyes.ipd / 2 + 0.006), 0.03, 0.018, 0.011, -_CHEEK_LIGHT) for side in geometry.SIDES]
    terms += [(away * 0.009, 0.55 * nose_y, 0.005, 0.4 * nose_y, 0.25), (away * 0.004, nose_y + 0.007, 0.01, 0.004, 0.3)]
    factor = np.ones(sx.shape, np.float32)
    for x, y, wx, wy, strength in terms:
        factor -= strength * np.exp(-(((sx - x / ax) * (ax / wx)) ** 2) - (((sy - (y - cy) / ay) * (ay / wy)) ** 2))
    return factor


def _lens_glare(pen: Pen, rims: list[np.ndarray], lit: np.ndarray) -> None:
    """Each lens's reflection band, blended toward white at the look's (faint) glare."""
    if not rims:
        return
    lens = np.zeros(lit.shape[:2], np.uint8)
    band = np.zeros(lit.shape[:2], np.uint8)
    cv2.fillPoly(lens, [pen.fixed(rim) for rim in rims], 255, cv2.LINE_AA, SHIFT)
    cv2.fillPoly(band, [pen.fixed(b) for b in glare_bands(pen, rims)], 255, cv2.LINE_AA, SHIFT)
    alpha = (lens.astype(np.float32) * band.astype(np.float32) * (pen.look.glare / 255 / 255))[..., None]
    lit[:] = lit * (1 - alpha) + 250.0 * alpha
