"""Renderer "cartoon": procedural 2D faces whose eyes look at a known point on the screen.

The shipped default model learns from these drawn faces (and vector's): a head, hair, brows, eyes, nose and mouth with a random
identity (size, position, proportions, skin, hair, lighting, blur, noise).
The irises move with the horizontal gaze; irises and upper eyelids move with
the vertical gaze. Labels are exact by construction. This proves the
machinery, not real-world accuracy: that comes from per-user calibration.

Everything is deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from gazesite.data.faces.geometry import outside
from gazesite.track.pipeline import PIPELINE

#: Ranges of a training person, which an unseen person leaves (unseen_person).
FACE_WIDTH = (0.30, 0.50)  # of the frame width
EYE_SPACING = (0.38, 0.46)  # distance between eye centres / face width
GAIN_SPREAD = (0.92, 1.08)  # of the typical iris travel

#: Drawing happens on a canvas this many times larger, then shrinks with
#: area averaging, so sub-pixel iris movements survive as grey levels.
SUPERSAMPLE = 4
#: Fixed-point bits for OpenCV's sub-pixel drawing coordinates.
_SHIFT = 4


@dataclass(frozen=True)
class Identity:
    """The look of one synthetic person in front of one camera."""

    face_width: float  # pixels in the camera frame
    aspect: float  # face height / width
    center_x: float
    center_y: float
    tilt_deg: float
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    hair_line: float  # fraction of face height covered by the fringe
    eye_y: float  # eye line, fraction of face height from the top
    eye_spacing: float  # distance between eye centres / face width
    eye_width: float  # / face width
    eye_open: float  # eye height / eye width
    iris_size: float  # iris radius / eye width
    iris_tone: float
    brow_gap: float  # / face height
    mouth_y: float  # / face height
    background: float
    light_angle: float
    light_strength: float
    blur_sigma: float
    noise_sigma: float
    # How far the irises travel for a gaze at the screen edge, as a fraction
    # of the eye's width/height; a person-specific bias shifts the rest point.
    gaze_gain_x: float = 0.45
    gaze_gain_y: float = 0.35
    gaze_bias_x: float = 0.0
    gaze_bias_y: float = 0.0


def random_identity(rng: np.random.Generator, width: int = PIPELINE.camera_width, height: int = PIPELINE.camera_height) -> Identity:
    """Draw a random identity whose face fits in a width x height frame."""
    face_width = rng.uniform(*FACE_WIDTH) * width
    aspect = rng.uniform(1.22, 1.38)
    face_height = face_width * aspect
    margin_x = face_width * 0.6
    margin_y = face_height * 0.55
    skin_level = rng.uniform(110, 215)
    tint = rng.uniform(0.0, 0.18)
    hair_level = rng.uniform(15, 85)
    return Identity(
        face_width=face_width,
        aspect=aspect,
        center_x=rng.uniform(margin_x, width - margin_x),
        center_y=rng.uniform(margin_y, max(margin_y + 1, height - margin_y)),
        tilt_deg=rng.uniform(-6, 6),
        skin=(skin_level * (1 - tint), skin_level * (1 - tint / 2), skin_level),  # BGR, warm tint
        hair=(hair_level, hair_level * rng.uniform(1.0, 1.3), hair_level * rng.uniform(1.0, 1.6)),
        hair_line=rng.uniform(0.12, 0.24),
        eye_y=rng.uniform(0.40, 0.46),
        eye_spacing=rng.uniform(*EYE_SPACING),
        eye_width=rng.uniform(0.19, 0.24),
        eye_open=rng.uniform(0.42, 0.55),
        iris_size=rng.uniform(0.22, 0.28),
        iris_tone=rng.uniform(20, 90),
        brow_gap=rng.uniform(0.06, 0.09),
        mouth_y=rng.uniform(0.74, 0.80),
        background=rng.uniform(30, 225),
        light_angle=rng.uniform(0, 2 * np.pi),
        light_strength=rng.uniform(0.0, 0.35),
        blur_sigma=rng.uniform(0.3, 1.1),
        noise_sigma=rng.uniform(1.0, 5.0),
        gaze_gain_x=0.45 * rng.uniform(*GAIN_SPREAD),
        gaze_gain_y=0.35 * rng.uniform(*GAIN_SPREAD),
    )


def jitter(identity: Identity, rng: np.random.Generator) -> Identity:
    """Return the same person moved slightly, as between two webcam frames."""
    scale = rng.uniform(0.95, 1.05)
    return replace(
        identity,
        face_width=identity.face_width * scale,
        center_x=identity.center_x + rng.normal(0, 3),
        center_y=identity.center_y + rng.normal(0, 3),
        tilt_deg=identity.tilt_deg + rng.normal(0, 1.5),
    )


def _pt(x: float, y: float) -> tuple[int, int]:
    factor = SUPERSAMPLE * (1 << _SHIFT)
    return round(x * factor), round(y * factor)


def _len(v: float) -> int:
    return max(1, round(v * SUPERSAMPLE * (1 << _SHIFT)))


def _ellipse(
    img: np.ndarray, cx: float, cy: float, ax: float, ay: float, angle: float, color: tuple[float, ...], thickness: int = -1
) -> None:
    cv2.ellipse(img, _pt(cx, cy), (_len(ax), _len(ay)), angle, 0, 360, color, thickness, cv2.LINE_AA, _SHIFT)


def render_face(
    identity: Identity,
    target: tuple[float, float],
    rng: np.random.Generator,
    width: int = PIPELINE.camera_width,
    height: int = PIPELINE.camera_height,
) -> np.ndarray:
    """Draw one camera frame (uint8 RGBA, height x width) of a person looking at target.

    ``target`` is (x, y) in 0..1 of the screen; (0, 0) is the top-left corner.
    ``rng`` only drives the sensor noise.
    """
    idt = identity
    big = np.empty((height * SUPERSAMPLE, width * SUPERSAMPLE, 3), np.float32)
    # Background: a flat wall with a soft gradient.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    wall = idt.background * (1 + 0.15 * (xx / width - 0.5))
    big[:] = cv2.resize(np.repeat(wall[..., None], 3, axis=2), (width * SUPERSAMPLE, height * SUPERSAMPLE))

    fw = idt.face_width
    fh = fw * idt.aspect
    cx, cy = idt.center_x, idt.center_y
    top = cy - fh / 2
    skin = idt.skin
    shade = tuple(c * 0.72 for c in skin)
    dark = tuple(c * 0.45 for c in skin)

    # Neck and shoulders, then hair behind the head, then the head.
    cv2.rectangle(big, _pt(cx - fw * 0.22, cy + fh * 0.3), _pt(cx + fw * 0.22, height + 5), shade, -1, cv2.LINE_AA, _SHIFT)
    _ellipse(big, cx, cy + fh * 0.95, fw * 0.95, fh * 0.35, 0, tuple(c * 0.5 + 40 for c in idt.hair))
    _ellipse(big, cx, cy - fh * 0.08, fw * 0.56, fh * 0.50, idt.tilt_deg, idt.hair)
    _ellipse(big, cx, cy, fw * 0.5, fh * 0.5, idt.tilt_deg, skin)

    # Fringe: the part of the head ellipse above the hair line.
    arc_px16 = cv2.ellipse2Poly((int(cx * 16), int(cy * 16)), (int(fw * 0.5 * 16), int(fh * 0.5 * 16)), round(idt.tilt_deg), 180, 360, 5)
    arc = np.asarray(arc_px16, dtype=np.float32) / 16
    line_y = top + fh * idt.hair_line
    fringe = arc[arc[:, 1] <= line_y + 0.01 * fh]
    if len(fringe) >= 3:
        poly = (fringe * SUPERSAMPLE * (1 << _SHIFT)).round().astype(np.int32)
        cv2.fillPoly(big, [poly], idt.hair, cv2.LINE_AA, _SHIFT)

    # Rotate facial features with the head around its centre.
    theta = np.deg2rad(idt.tilt_deg)
    cos_t, sin_t = np.cos(theta), np.sin(theta)

    def at(dx: float, dy: float) -> tuple[float, float]:
        return cx + dx * cos_t - dy * sin_t, cy + dx * sin_t + dy * cos_t

    eye_w = fw * idt.eye_width
    eye_h = eye_w * idt.eye_open
    eye_dy = fh * (idt.eye_y - 0.5)
    tx, ty = float(target[0]), float(target[1])
    # A look at the screen's right turns the eyes to the person's right, which
    # the webcam's unmirrored frames (what the page receives) show on the left.
    iris_dx = ((0.5 - tx) * 2 * idt.gaze_gain_x + idt.gaze_bias_x) * eye_w / 2
    iris_dy = ((ty - 0.5) * 2 * idt.gaze_gain_y + idt.gaze_bias_y) * eye_h / 2
    # Looking down lowers the upper lid; looking up raises it.
    lid = 0.25 + 0.45 * np.clip(ty + idt.gaze_bias_y, 0, 1)

    for side in (-1, 1):
        ex, ey = at(side * fw * idt.eye_spacing / 2, eye_dy)
        # Brow.
        bx, by = at(side * fw * idt.eye_spacing / 2, eye_dy - fh * idt.brow_gap)
        _ellipse(big, bx, by, eye_w * 0.62, fh * 0.018, idt.tilt_deg - side * 6, idt.hair)
        # Eye socket shadow, sclera, iris, pupil.
        _ellipse(big, ex, ey, eye_w * 0.66, eye_h * 0.85, idt.tilt_deg, shade)
        _draw_eye(big, idt, ex, ey, eye_w, eye_h, iris_dx, iris_dy, lid)
        _ellipse(big, ex, ey, eye_w / 2, eye_h / 2, idt.tilt_deg, dark, max(1, _len(fw * 0.006) // (1 << _SHIFT)))

    # Nose: a bright ridge with darker nostrils; mouth: dark lips.
    nx, ny = at(0, fh * 0.12)
    _ellipse(big, nx, ny, fw * 0.07, fh * 0.12, idt.tilt_deg, tuple(min(255, c * 1.08) for c in skin))
    for side in (-1, 1):
        sx, sy = at(side * fw * 0.05, fh * 0.21)
        _ellipse(big, sx, sy, fw * 0.028, fh * 0.014, idt.tilt_deg, dark)
    mx, my = at(0, fh * (idt.mouth_y - 0.5))
    _ellipse(big, mx, my, fw * 0.18, fh * 0.035, idt.tilt_deg, (dark[0] * 0.9, dark[1] * 0.8, min(255, dark[2] * 1.3)))

    frame: np.ndarray = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)
    # Lighting: a linear ramp across the frame.
    ramp = (np.cos(idt.light_angle) * (xx - cx) + np.sin(idt.light_angle) * (yy - cy)) / fw
    frame *= (1 + idt.light_strength * np.clip(ramp, -1.5, 1.5))[..., None]
    frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), idt.blur_sigma), dtype=np.float32)
    frame += np.asarray(rng.normal(0, idt.noise_sigma, frame.shape), dtype=np.float32)
    bgr = np.clip(frame, 0, 255).astype(np.uint8)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA)


def _draw_eye(
    big: np.ndarray, idt: Identity, ex: float, ey: float, eye_w: float, eye_h: float, iris_dx: float, iris_dy: float, lid: float
) -> None:
    """Draw sclera, iris, pupil and upper lid, clipped to the eye opening.

    Works on a small window around the eye: full-frame masks at the
    supersampled size would dominate the rendering time.
    """
    half = eye_w * 0.75
    x0, y0 = max(0, int((ex - half) * SUPERSAMPLE)), max(0, int((ey - half) * SUPERSAMPLE))
    x1 = min(big.shape[1], int((ex + half) * SUPERSAMPLE) + 1)
    y1 = min(big.shape[0], int((ey + half) * SUPERSAMPLE) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    ox, oy = x0 / SUPERSAMPLE, y0 / SUPERSAMPLE
    window = big[y0:y1, x0:x1].copy()
    theta = np.deg2rad(idt.tilt_deg)
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    lx, ly = ex - ox, ey - oy

    opening = np.zeros(window.shape[:2], np.uint8)
    _ellipse(opening, lx, ly, eye_w / 2, eye_h / 2, idt.tilt_deg, (255,))
    eyeball = np.empty_like(window)
    eyeball[:] = (235, 235, 235)
    ix = lx + iris_dx * cos_t - iris_dy * sin_t
    iy = ly + iris_dx * sin_t + iris_dy * cos_t
    tone = idt.iris_tone
    radius = eye_w * idt.iris_size
    _ellipse(eyeball, ix, iy, radius, radius, 0, (tone, tone * 1.1, tone * 1.2))
    _ellipse(eyeball, ix, iy, radius * 0.45, radius * 0.45, 0, (10, 10, 10))
    # Upper lid: skin from the top of the eye down to the lid line.
    lid_y = ly - eye_h / 2 + eye_h * lid * 0.5
    _ellipse(eyeball, lx, lid_y - eye_h * 0.5, eye_w * 0.55, eye_h * 0.5, idt.tilt_deg, tuple(c * 0.9 for c in idt.skin))
    keep = (opening.astype(np.float32) / 255)[..., None]
    big[y0:y1, x0:x1] = window * (1 - keep) + eyeball * keep


# The renderer interface (gazesite.data.faces.Renderer).
random_person = random_identity
render = render_face


def unseen_person(rng: np.random.Generator) -> Identity:
    """A cartoon person outside the training ranges, in the spirit of new_person.

    Wider- or closer-set eyes, a face smaller or larger than any in training,
    irises that travel less than any trained person's and rest off-centre.
    """
    base = random_identity(rng)
    width, height = PIPELINE.camera_width, PIPELINE.camera_height
    face_width = outside(rng, FACE_WIDTH[0], FACE_WIDTH[1], 0.04) * width
    margin_x, margin_y = face_width * 0.6, face_width * base.aspect * 0.55
    return replace(
        base,
        face_width=face_width,
        center_x=float(rng.uniform(margin_x, width - margin_x)),
        center_y=float(rng.uniform(margin_y, max(margin_y + 1, height - margin_y))),
        eye_spacing=outside(rng, EYE_SPACING[0], EYE_SPACING[1], 0.04),
        gaze_gain_x=0.45 * float(rng.uniform(0.75, GAIN_SPREAD[0])),
        gaze_gain_y=0.35 * float(rng.uniform(0.75, GAIN_SPREAD[0])),
        gaze_bias_x=float(rng.choice([-1, 1]) * rng.uniform(0.08, 0.22)),
        gaze_bias_y=float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.12)),
    )


def new_person(seed: int) -> Identity:
    """A person unlike any the default model saw: the calibration's test subject.

    Wider-set eyes than the training range, irises that travel less and rest
    off-centre (a personal bias), and a camera that sees the face smaller and
    off to one side.
    """
    rng = np.random.default_rng(seed)
    base = random_identity(rng)
    return replace(
        base,
        face_width=PIPELINE.camera_width * 0.36,
        center_x=PIPELINE.camera_width * 0.36,
        center_y=PIPELINE.camera_height * 0.55,
        eye_spacing=0.49,
        gaze_gain_x=0.45 * 0.8,
        gaze_gain_y=0.35 * 0.85,
        gaze_bias_x=0.2,
        gaze_bias_y=-0.1,
    )
