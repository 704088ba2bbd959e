"""One physical model of screen, head, eyes and camera, shared by the 3D-aware renderers.

Units are metres and radians. Three frames:

World (right-handed), fixed to the screen:
    origin  the centre of the screen
    +x      toward the screen's right edge, as the person sees it
    +y      down the screen
    +z      into the screen, away from the person (the person sits at z < 0)
    A target (tx, ty) in 0..1 of the screen, (0, 0) top-left, is the point
    ((tx - 0.5) * width, (ty - 0.5) * height, 0).

Head: origin midway between the two eyeball centres. With zero pose its axes
    are the world's: x the person's right, y down, z the way the face points
    (toward the screen). Yaw > 0 turns the face toward +x, pitch > 0 tilts it
    down, roll > 0 leans the top of the head toward +x.

Camera (OpenCV's): x image right, y image down, z the viewing direction. The
    webcam sits by the screen and looks back at the person (about -z world).

Image convention: as a webcam delivers it to the page, unmirrored: the
person's right (world +x) shows on the image's LEFT, so a look at the
screen's right moves the irises to the image's left. (A preview may be shown
mirrored; getUserMedia's frames are not.) Every renderer draws it this way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from gazesite.track.pipeline import PIPELINE

#: Nominal face width (cheek to cheek) used to place the head at a distance that gives a wanted face size in pixels.
FACE_WIDTH_M = 0.145
#: Eyeball radius; every adult eye is close to it.
EYEBALL_RADIUS_M = 0.012
#: Where the webcam sits, and how often: laptops put it above the screen; beside it is rare, and
#: turns the face 30-50 degrees from the camera, beyond what the frontal cascade finds.
CAMERA_PLACES = ("top", "bottom", "left", "right")
CAMERA_PLACE_WEIGHTS = (0.9, 0.06, 0.02, 0.02)
#: Eye order everywhere: index 0 is the eye at head x < 0 (the person's left), index 1 at x > 0.
SIDES = (-1.0, 1.0)
#: The widest screen drawn for a head at distance d is this times d (about 60 degrees of view).
_MAX_SCREEN_PER_DISTANCE = 1.2
#: The face's centre (about the nose) lies this far below the eyes.
_FACE_CENTRE_BELOW_EYES = 0.025

Vec = tuple[float, float, float]


def as_vec(values: Iterable[float]) -> Vec:
    """A Vec of Python floats from exactly three numbers (a numpy 3-vector, say)."""
    x, y, z = values
    return float(x), float(y), float(z)


@dataclass(frozen=True)
class Screen:
    """The screen's physical size."""

    width: float
    height: float


@dataclass(frozen=True)
class Camera:
    """A pinhole webcam: where it is, where it looks, its focal length in pixels."""

    position: Vec  # world
    rotation: tuple[Vec, Vec, Vec]  # rows: the camera's x, y, z axes in world coordinates
    focal: float  # pixels; square pixels, principal point at the frame centre
    width: int = PIPELINE.camera_width
    height: int = PIPELINE.camera_height
    place: str = "top"


@dataclass(frozen=True)
class Head:
    """Where the head is (its mid-eye point, world) and how it is turned."""

    position: Vec
    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Eyes:
    """The eyes of one person: spacing, size and the visual/optical axis offset."""

    ipd: float  # distance between the eyeball centres
    radius: float
    kappa_h: float  # optical axis turned temporally from the visual axis
    kappa_v: float  # optical axis turned down (> 0) from the visual axis


@dataclass(frozen=True)
class Rig:
    """One person in front of one screen and webcam."""

    screen: Screen
    camera: Camera
    head: Head
    eyes: Eyes


@dataclass(frozen=True)
class RigRanges:
    """The ranges random people are drawn from (angles in degrees, lengths in metres).

    Screens are drawn no wider than 1.2 times the head's distance (nobody
    sits 25 cm from a 27-inch screen); poses are normal, with the ranges as
    their tails.
    """

    screen_width: tuple[float, float] = (0.30, 0.60)
    screen_aspect: tuple[float, float] = (1.5, 1.8)
    # The face's width in the frame (pixels) sets the head's distance: the
    # cascade's 70 px minimum rules out the far half of a real desk's range
    # (see head_distance).
    face_px: tuple[float, float] = (88.0, 140.0)
    fov_deg: tuple[float, float] = (55.0, 72.0)
    head_offset: tuple[float, float] = (0.06, 0.025)  # at most |x|, |y| of the head from its usual place
    yaw_deg: float = 15.0
    pitch_deg: float = 12.0
    roll_deg: float = 8.0
    ipd: tuple[float, float] = (0.054, 0.072)
    kappa_h_deg: tuple[float, float] = (2.0, 6.0)
    kappa_v_deg: tuple[float, float] = (-2.5, 2.5)
    camera_offset: float = 0.03  # along the screen edge, from the edge's centre
    camera_gap: tuple[float, float] = (0.005, 0.025)  # from the screen's edge, outward


TRAINING_RANGES = RigRanges()


def rotation_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Head-to-world rotation for a head turned by yaw (toward +x), pitch (down) and roll."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])  # z -> (sin yaw, 0, cos yaw)
    r_pitch = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])  # z -> (0, sin pitch, cos pitch)
    r_roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])  # y (down) -> (-sin roll, cos roll, 0)
    return r_yaw @ r_pitch @ r_roll


def direction(yaw: float, pitch: float) -> np.ndarray:
    """Unit vector for angles measured like the head's: yaw toward +x, pitch toward +y (down)."""
    return np.array([math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)])


def angles(vector: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) of a direction, the inverse of :func:`direction`."""
    x, y, z = (float(v) for v in vector)
    return math.atan2(x, z), math.atan2(y, math.hypot(x, z))


def target_point(screen: Screen, target: tuple[float, float]) -> np.ndarray:
    """The world point of a target given in 0..1 of the screen."""
    return np.array([(target[0] - 0.5) * screen.width, (target[1] - 0.5) * screen.height, 0.0])


def head_to_world(head: Head, points: np.ndarray) -> np.ndarray:
    """Map points (..., 3) from head to world coordinates."""
    return np.asarray(points, float) @ rotation_matrix(head.yaw, head.pitch, head.roll).T + np.asarray(head.position)


def eyeball_centres(rig: Rig) -> np.ndarray:
    """The two eyeball centres (2, 3) in world coordinates, in :data:`SIDES` order."""
    local = np.array([[side * rig.eyes.ipd / 2, 0.0, 0.0] for side in SIDES])
    return head_to_world(rig.head, local)


def eye_rotations(rig: Rig, target: tuple[float, float]) -> list[tuple[float, float]]:
    """(yaw, pitch) of each eye's optical axis in head coordinates when it fixates the target.

    Both visual axes point at the target in the world, whatever the head
    does (the eyes counter-rotate); the optical axis sits kappa away from the
    visual axis, temporally and vertically. Kappa differs between people and
    no camera can see it: the reason calibration exists.
    """
    point = target_point(rig.screen, target)
    rot = rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll)
    result = []
    for side, centre in zip(SIDES, eyeball_centres(rig), strict=True):
        yaw, pitch = angles(rot.T @ (point - centre))
        result.append((yaw + side * rig.eyes.kappa_h, pitch + rig.eyes.kappa_v))
    return result


def optical_axes(rig: Rig, target: tuple[float, float]) -> np.ndarray:
    """Each eye's optical axis (2, 3) as world unit vectors."""
    rot = rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll)
    return np.array([rot @ direction(yaw, pitch) for yaw, pitch in eye_rotations(rig, target)])


def iris_centres(rig: Rig, target: tuple[float, float]) -> np.ndarray:
    """Iris centres (2, 3), world: eyeball centre + radius x optical axis."""
    return eyeball_centres(rig) + rig.eyes.radius * optical_axes(rig, target)


def focal_from_fov(fov_deg: float, width: int = PIPELINE.camera_width) -> float:
    """Focal length in pixels for a horizontal field of view."""
    return (width / 2) / math.tan(math.radians(fov_deg) / 2)


def look_at(position: np.ndarray, point: np.ndarray) -> tuple[Vec, Vec, Vec]:
    """Camera rotation (rows = camera axes in world) looking from position at point, image-down near world-down."""
    z = np.asarray(point, float) - np.asarray(position, float)
    z /= np.linalg.norm(z)
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return as_vec(x), as_vec(y), as_vec(z)


def to_camera(camera: Camera, points: np.ndarray) -> np.ndarray:
    """Map world points (..., 3) to camera coordinates."""
    return (np.asarray(points, float) - np.asarray(camera.position)) @ np.asarray(camera.rotation).T


def project(camera: Camera, points: np.ndarray) -> np.ndarray:
    """Project world points (..., 3) to pixels (..., 2); pixel i's centre is at i, as OpenCV draws."""
    local = to_camera(camera, points)
    z = np.maximum(local[..., 2], 1e-6)
    u = (camera.width - 1) / 2 + camera.focal * local[..., 0] / z
    v = (camera.height - 1) / 2 + camera.focal * local[..., 1] / z
    return np.stack([u, v], axis=-1)


def pixel_rays(camera: Camera, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """World directions (..., 3) of the rays through pixel positions (u, v), the inverse of :func:`project`."""
    x = (u - (camera.width - 1) / 2) / camera.focal
    y = (v - (camera.height - 1) / 2) / camera.focal
    local = np.stack([x, y, np.ones_like(x)], axis=-1)
    rays = local @ np.asarray(camera.rotation)
    return rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def head_distance(face_px: float, focal: float) -> float:
    """Distance at which a face :data:`FACE_WIDTH_M` wide spans face_px pixels.

    A real face 0.45-0.80 m from a 55-75 degree webcam spans only 36-96 px
    of a 320 px frame, mostly under the cascade's 70 px minimum, so people
    are placed by face size (the pipeline's constraint), not by distance.
    """
    return FACE_WIDTH_M * focal / face_px


def camera_position(screen: Screen, place: str, along: float, gap: float, depth: float) -> np.ndarray:
    """A webcam on one edge of the screen: ``along`` the edge from its centre, ``gap`` outward."""
    half_w, half_h = screen.width / 2, screen.height / 2
    if place == "top":
        return np.array([along, -half_h - gap, depth])
    if place == "bottom":
        return np.array([along, half_h + gap, depth])
    side = -1.0 if place == "left" else 1.0
    return np.array([side * (half_w + gap), along, depth])


def random_rig(rng: np.random.Generator, ranges: RigRanges = TRAINING_RANGES) -> Rig:
    """Draw a person, a screen and a webcam from the ranges."""
    focal = focal_from_fov(rng.uniform(*ranges.fov_deg))
    distance = head_distance(rng.uniform(*ranges.face_px), focal)
    # Nobody sits 25 cm from a 27-inch screen: close heads get the smaller screens.
    low, high = ranges.screen_width
    width = rng.uniform(low, float(np.clip(_MAX_SCREEN_PER_DISTANCE * distance, low, high)))
    screen = Screen(width, width / rng.uniform(*ranges.screen_aspect))
    # Eyes sit level with the screen's upper part, where monitors are set up to be.
    head_pos = np.array(
        [
            rng.uniform(-1, 1) * ranges.head_offset[0],
            -screen.height * rng.uniform(0.05, 0.3) + rng.uniform(-1, 1) * ranges.head_offset[1],
            -distance,
        ]
    )
    # Most people hold their head near upright, turned toward the screen's centre; the ranges are
    # the tails, not the typical pose.
    yaw, pitch, roll = (
        math.radians(float(np.clip(rng.normal(0, limit / 2), -limit, limit)))
        for limit in (ranges.yaw_deg, ranges.pitch_deg, ranges.roll_deg)
    )
    yaw += math.atan2(-head_pos[0], distance)
    head = Head(as_vec(head_pos), yaw, pitch, roll)
    place = str(rng.choice(CAMERA_PLACES, p=CAMERA_PLACE_WEIGHTS))
    # A side camera sits near the upper half of the edge, as clip-on webcams do.
    along = rng.uniform(-1, 1) * ranges.camera_offset if place in ("top", "bottom") else -screen.height * rng.uniform(0.0, 0.3)
    position = camera_position(screen, place, along, rng.uniform(*ranges.camera_gap), -rng.uniform(0.0, 0.02))
    aim = _aim(head_pos, rng)
    camera = Camera(as_vec(position), look_at(position, aim), focal, place=place)
    eyes = Eyes(
        rng.uniform(*ranges.ipd),
        EYEBALL_RADIUS_M * rng.uniform(0.96, 1.04),
        math.radians(rng.uniform(*ranges.kappa_h_deg)),
        math.radians(rng.uniform(*ranges.kappa_v_deg)),
    )
    return Rig(screen, camera, head, eyes)


def _aim(head_position: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Where a webcam points: the face's centre (below the eyes), give or take a centimetre."""
    return head_position + np.array([0.0, _FACE_CENTRE_BELOW_EYES, 0.0]) + rng.normal(0, 0.01, 3)


def jitter_rig(rig: Rig, rng: np.random.Generator) -> Rig:
    """The same rig with the head moved a few millimetres and degrees, as between two webcam frames."""
    head = rig.head
    moved = Head(
        as_vec(p + d for p, d in zip(head.position, rng.normal(0, 0.004, 3), strict=True)),
        head.yaw + math.radians(rng.normal(0, 1.5)),
        head.pitch + math.radians(rng.normal(0, 1.2)),
        head.roll + math.radians(rng.normal(0, 1.0)),
    )
    return replace(rig, head=moved)


def outside(rng: np.random.Generator, low: float, high: float, margin: float) -> float:
    """A value just below low or just above high (within margin): outside a training range on either side."""
    return float(rng.uniform(low - margin, low)) if rng.uniform() < 0.5 else float(rng.uniform(high, high + margin))


def unseen_rig(rng: np.random.Generator) -> Rig:
    """A rig with eye spacing, kappa, face size and webcam position outside the training ranges."""
    ranges = TRAINING_RANGES
    rig = random_rig(rng, ranges)
    focal = rig.camera.focal
    # A camera that sees the face smaller than any in training (as cartoon.new_person does),
    # still above the cascade's 70 px minimum.
    face_px = rng.uniform(ranges.face_px[0] - 12.0, ranges.face_px[0])
    head_pos = np.array(rig.head.position)
    head_pos[2] = -head_distance(face_px, focal)
    head = replace(rig.head, position=as_vec(head_pos))
    eyes = Eyes(
        outside(rng, ranges.ipd[0], ranges.ipd[1], 0.005),
        rig.eyes.radius,
        math.radians(rng.uniform(ranges.kappa_h_deg[1], ranges.kappa_h_deg[1] + 2.0)),
        math.radians(outside(rng, ranges.kappa_v_deg[0], ranges.kappa_v_deg[1], 1.5)),
    )
    # An external webcam on the top edge, well off the centre and higher than a laptop's.
    along = float(rng.choice([-1.0, 1.0])) * rng.uniform(ranges.camera_offset + 0.01, ranges.camera_offset + 0.05)
    position = camera_position(
        rig.screen, "top", along, rng.uniform(ranges.camera_gap[1], ranges.camera_gap[1] + 0.025), -rng.uniform(0.0, 0.02)
    )
    camera = Camera(as_vec(position), look_at(position, _aim(head_pos, rng)), focal, place="top-offset")
    return Rig(rig.screen, camera, head, eyes)
