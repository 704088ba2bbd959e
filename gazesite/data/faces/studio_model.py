"""The studio renderer's person: the ranges its looks are drawn from, a look, a turned head, points on the face.

Head coordinates as in :mod:`gazesite.data.faces.geometry`. The head is one
ellipsoid whose proportions, eye line and width (hence eye spacing) come
from ranges outside those the other renderers draw; the ranges below are
what the held-out measurement covers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from gazesite.data.faces import geometry, looks
from gazesite.data.faces.looks import Color

# Per-person variations: each range is drawn uniformly unless its comment says otherwise.
#: Head height / width: short and wide, or long and narrow (half the people each); the others draw 1.2-1.7.
FACE_ASPECTS = ((1.08, 1.22), (1.72, 1.88))
#: The eye line's height as a share of the head's height from its top: high or low (the others: 0.40-0.50).
EYE_LINES = ((0.37, 0.41), (0.52, 0.56))
#: Eye-centre distance / face width: close-set or wide-set, whichever FACE_WIDTH_M allows (cartoon: 0.38-0.46).
EYE_SPACINGS = ((0.30, 0.36), (0.48, 0.54))
#: Cheek-to-cheek face width (m): the eye spacing above sets it, within these bounds.
FACE_WIDTH_M = (0.140, 0.190)
#: Share of people wearing glasses.
GLASSES_SHARE = 0.5
#: Glasses frame thickness (m): thin wire or thick plastic, half the wearers each.
FRAME_THICKNESS_M = ((0.0006, 0.0012), (0.0024, 0.0040))
#: Frame colour levels (BGR 0..255): dark (black, tortoise) or light (silver, clear), half the wearers each.
FRAME_LEVELS = ((12.0, 60.0), (165.0, 235.0))
#: Opacity of the lens's reflection band: faint, so the iris always shows through.
LENS_GLARE = (0.06, 0.28)
#: Share of people whose head is turned away from the webcam by TURN_DEG.
TURNED_SHARE = 0.6
#: Yaw of a turned head away from the webcam's direction (degrees, either way).
TURN_DEG = (10.0, 20.0)
#: Spread (degrees, one standard deviation, clipped at two) of the other heads' yaw about the webcam's direction.
FACING_SD_DEG = 3.0
#: Spread of every head's pitch and roll (degrees, one standard deviation, clipped at two): small.
PITCH_SD_DEG, ROLL_SD_DEG = 3.0, 3.0
#: How far the key light sits to the person's side (degrees from straight ahead), on the left or the right.
LIGHT_ANGLE_DEG = (40.0, 75.0)
#: Strength of the side light on a face turned to it.
KEY_LIGHT = (0.45, 0.85)
#: Light that reaches every part of the face (room and screen): sets how dark the shadow side is.
FILL_LIGHT = (0.28, 0.48)
#: Mean grey level the webcam's gain brings the face to: dim to bright.
EXPOSURE = (55.0, 175.0)
#: Sensor noise (grey levels, one standard deviation) at unit gain; it grows with the gain, so dim frames are noisier.
NOISE_SIGMA = (1.0, 2.5)
#: Lens blur (frame pixels, Gaussian sigma).
BLUR_SIGMA = (0.3, 0.9)
#: Share of people whose webcam compresses each frame as JPEG, and its quality.
JPEG_SHARE = 0.6
JPEG_QUALITY = (60, 90)

#: Hair styles and how often each is drawn.
HAIR_STYLES = ("short", "long", "curly", "shaved")
HAIR_STYLE_WEIGHTS = (0.35, 0.3, 0.2, 0.15)
#: The torso's centre from the head's mid-eye point (world, metres), and its semi-axes.
TORSO_OFFSET = (0.0, 0.25, -0.08)
TORSO_AXES = (0.21, 0.12, 0.10)


@dataclass(frozen=True)
class Look:
    """Everything about a studio person that is not where they sit: shape, colours, glasses, light, camera."""

    skin: Color
    hair: Color
    brow: Color
    lips: Color
    iris: Color
    sclera: Color
    clothes: Color
    backdrop: tuple[Color, Color]  # the two ends of the background's gradient (equal: a plain backdrop)
    backdrop_angle: float  # direction of the gradient, radians
    head_centre: tuple[float, float, float]  # the head ellipsoid, head coordinates
    head_axes: tuple[float, float, float]
    hair_style: str
    hairline: float  # y of the hairline at the forehead's middle, in head semi-axes (-1 is the top)
    hair_volume: float  # hair's reach beyond the head, in head semi-axes
    eye_half_width: float  # in eyeball radii
    lid_up: float  # upper opening at rest, in eyeball radii
    lid_down: float
    canthal_tilt: float  # outer corner above the inner one, in eyeball radii
    iris_radius: float  # metres
    pupil_radius: float
    brow_y: float  # metres below the eye line (negative: above)
    brow_thickness: float
    nose_share: float  # the nose tip's drop from the eye line, as a share of the chin's
    nose_depth: float  # how far the tip stands out of the face, metres
    mouth_share: float  # the mouth's place between nose tip and chin
    mouth_width: float  # half width, metres
    lip_height: float
    glasses: str  # "", "round" or "rect"
    frame_thickness: float  # metres
    frame: Color
    lens_size: tuple[float, float]  # half width and half height, metres
    glare: float  # opacity of the lens's reflection band
    glare_offset: float  # where the band crosses the lens, in lens half widths
    light_side: float  # +1: the light is on the person's right (world +x), -1: on their left
    light_angle: float  # radians from straight ahead
    light_elevation: float  # radians above the face
    key: float
    fill: float
    exposure: float
    noise_sigma: float
    blur_sigma: float
    jpeg_quality: int  # 0: frames are not compressed


@dataclass(frozen=True)
class Person:
    """A studio person: where they sit (geometry.Rig), what they look like, and their torso (fixed when the head moves)."""

    rig: geometry.Rig
    look: Look
    torso: tuple[float, float, float]  # world


def either(rng: np.random.Generator, ranges: tuple[tuple[float, float], tuple[float, float]]) -> float:
    """A value from one of two ranges, each half the time."""
    low, high = ranges[int(rng.integers(2))]
    return float(rng.uniform(low, high))


def eye_spacing(rng: np.random.Generator, ipd: float) -> float:
    """A close-set or wide-set eye spacing (eye distance / face width) whose face width lies within FACE_WIDTH_M."""
    narrow, wide = FACE_WIDTH_M
    reachable = [(max(low, ipd / wide), min(high, ipd / narrow)) for low, high in EYE_SPACINGS]
    # Any face width in bounds, should neither band be reachable for this eye distance.
    choices = [(low, high) for low, high in reachable if low < high] or [(ipd / wide, ipd / narrow)]
    low, high = choices[int(rng.integers(len(choices)))]
    return float(rng.uniform(low, high))


def random_look(rng: np.random.Generator, ipd: float) -> Look:
    """Draw a look for a person whose eyeball centres are ipd apart (the face's width follows the eye spacing)."""
    skin = looks.skin_tone(rng)
    hair = looks.hair_tone(rng, skin)
    ax = ipd / eye_spacing(rng, ipd) / 2
    ay, az = ax * either(rng, FACE_ASPECTS), ax * rng.uniform(1.15, 1.35)
    cy = ay * (1 - 2 * either(rng, EYE_LINES))
    # The face's surface meets the cornea at the eyes: the ellipsoid's depth puts the eyes in it, not behind it.
    reach = math.sqrt(max(0.05, 1 - (ipd / 2 / ax) ** 2 - (cy / ay) ** 2))
    cz = 0.8 * geometry.EYEBALL_RADIUS_M - az * reach
    glasses = str(rng.choice(["round", "rect"])) if rng.uniform() < GLASSES_SHARE else ""
    frame_level = either(rng, FRAME_LEVELS)
    backdrop_a = looks.any_color(rng, 40, 220)
    backdrop_b = backdrop_a if rng.uniform() < 0.35 else looks.any_color(rng, 40, 220)
    return Look(
        skin=skin,
        hair=hair,
        brow=looks.shade(looks.as_color(min(h, s * 0.5) for h, s in zip(hair, skin, strict=True)), rng.uniform(0.6, 0.9)),
        lips=looks.shade((skin[0] * 0.8, skin[1] * 0.72, min(255.0, skin[2] * 1.05)), rng.uniform(0.6, 0.8)),
        iris=looks.iris_tone(rng),
        sclera=looks.shade((214, 220, 228), rng.uniform(0.6, 0.78)),
        clothes=looks.any_color(rng),
        backdrop=(backdrop_a, backdrop_b),
        backdrop_angle=float(rng.uniform(0, 2 * math.pi)),
        head_centre=(0.0, cy, cz),
        head_axes=(ax, ay, az),
        hair_style=str(rng.choice(HAIR_STYLES, p=HAIR_STYLE_WEIGHTS)),
        hairline=rng.uniform(-0.62, -0.42),
        hair_volume=rng.uniform(0.04, 0.12),
        eye_half_width=rng.uniform(1.1, 1.3),
        lid_up=rng.uniform(0.45, 0.65),
        lid_down=rng.uniform(0.3, 0.42),
        canthal_tilt=rng.uniform(-0.05, 0.15),
        iris_radius=rng.uniform(0.0056, 0.0063),
        pupil_radius=rng.uniform(0.0016, 0.0028),
        brow_y=rng.uniform(-0.026, -0.017),
        brow_thickness=rng.uniform(0.004, 0.007),
        nose_share=rng.uniform(0.38, 0.46),
        nose_depth=rng.uniform(0.010, 0.018),
        mouth_share=rng.uniform(0.35, 0.45),
        mouth_width=rng.uniform(0.021, 0.028),
        lip_height=rng.uniform(0.003, 0.006),
        glasses=glasses,
        frame_thickness=either(rng, FRAME_THICKNESS_M),
        frame=looks.as_color(frame_level * rng.uniform(0.85, 1.15, 3)),
        lens_size=(rng.uniform(0.021, 0.027), rng.uniform(0.015, 0.020)),
        glare=rng.uniform(*LENS_GLARE),
        glare_offset=rng.uniform(-0.5, 0.5),
        light_side=float(rng.choice([-1.0, 1.0])),
        light_angle=math.radians(rng.uniform(*LIGHT_ANGLE_DEG)),
        light_elevation=math.radians(rng.uniform(5, 30)),
        key=rng.uniform(*KEY_LIGHT),
        fill=rng.uniform(*FILL_LIGHT),
        exposure=rng.uniform(*EXPOSURE),
        noise_sigma=rng.uniform(*NOISE_SIGMA),
        blur_sigma=rng.uniform(*BLUR_SIGMA),
        jpeg_quality=int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1)) if rng.uniform() < JPEG_SHARE else 0,
    )


def facing_yaw(rig: geometry.Rig) -> float:
    """The head yaw at which the face points at the webcam."""
    toward = np.asarray(rig.camera.position) - np.asarray(rig.head.position)
    return math.atan2(toward[0], toward[2])


def turn_head(rig: geometry.Rig, rng: np.random.Generator) -> geometry.Rig:
    """The rig with the studio's head pose: many heads turned 10-20 degrees from the webcam, pitch and roll small."""
    if rng.uniform() < TURNED_SHARE:
        turn = float(rng.choice([-1.0, 1.0]) * rng.uniform(*TURN_DEG))
    else:
        turn = float(np.clip(rng.normal(0, FACING_SD_DEG), -2 * FACING_SD_DEG, 2 * FACING_SD_DEG))
    pitch, roll = (float(np.clip(rng.normal(0, sd), -2 * sd, 2 * sd)) for sd in (PITCH_SD_DEG, ROLL_SD_DEG))
    head = replace(rig.head, yaw=facing_yaw(rig) + math.radians(turn), pitch=math.radians(pitch), roll=math.radians(roll))
    return replace(rig, head=head)


def light_direction(look: Look) -> np.ndarray:
    """World direction toward the key light: to the person's side, in front of the face and a little above it."""
    a, e = look.light_angle, look.light_elevation
    return np.array([look.light_side * math.sin(a) * math.cos(e), -math.sin(e), math.cos(a) * math.cos(e)])


def surface_z(look: Look, x: npt.ArrayLike, y: npt.ArrayLike, lift: float = 0.0) -> np.ndarray:
    """z of the head ellipsoid's front above head point (x, y), plus ``lift`` metres."""
    ax, ay, az = look.head_axes
    _, cy, cz = look.head_centre
    inside = np.clip(1 - (np.asarray(x) / ax) ** 2 - ((np.asarray(y) - cy) / ay) ** 2, 0.0, 1.0)
    return cz + az * np.sqrt(inside) + lift


def on_face(look: Look, x: npt.ArrayLike, y: npt.ArrayLike, lift: float = 0.0) -> np.ndarray:
    """Points (N, 3) on the front of the head at (x, y), lifted off the skin by ``lift``."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    return np.stack([x, y, surface_z(look, x, y, lift)], axis=-1)


def half_width(look: Look, y: float) -> float:
    """Half the head's width at height y (head coordinates)."""
    ax, ay, _ = look.head_axes
    return ax * math.sqrt(max(0.0, 1 - ((y - look.head_centre[1]) / ay) ** 2))


def chin_y(look: Look) -> float:
    """y of the chin (the head ellipsoid's lowest point)."""
    return look.head_centre[1] + look.head_axes[1]
