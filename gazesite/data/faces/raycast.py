"""Renderer "raycast": per-pixel ray casting of a 3D head, for testing only (never trained on).

Every pixel's 2 x 2 sub-samples are rays from the webcam's pinhole
(:mod:`gazesite.data.faces.geometry`). They hit a wall behind the person, a torso
and neck, a head made of ellipsoids (:mod:`gazesite.data.faces.raycast_model`)
with a hair shell, and two eyeball spheres. On an eyeball the iris and pupil
are caps of the sphere around the optical axis, so a turned eye shows a
foreshortened iris; outside the lid aperture (whose upper edge follows the
eye's vertical rotation) the sphere is eyelid skin. Shading is Lambert plus
ambient from the person's light, with shadows cast by the brow ridge and the
nose, a specular glint on the eyes, then sensor noise.

Nothing here is drawn in 2D: this is a third way of making a face, held out
so accuracy on it says something about faces unlike any training face.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import cv2
import numpy as np

from gazesite.data.faces import geometry, looks
from gazesite.data.faces.raycast_model import (
    EYE0,
    HAIR,
    NECK,
    NECK_SHAPE,
    PART0,
    SAMPLES,
    SKULL,
    WALL,
    Ellipsoid,
    Look,
    Person,
    ellipsoid_normals,
    hair_boundary,
    intersect_ellipsoid,
    random_look,
)
from gazesite.data.faces.raycast_shading import surface_colours

#: BGR weights of OpenCV's grey conversion.
_GREY = np.array([0.114, 0.587, 0.299], np.float32)
_TORSO_OFFSET = np.array([0.0, 0.28, -0.10])  # world, from the head's mid-eye point
_TORSO_AXES = (0.2, 0.13, 0.11)


def random_person(rng: np.random.Generator) -> Person:
    """A random person in front of a random screen and webcam."""
    return _person(geometry.random_rig(rng), random_look(rng))


def unseen_person(rng: np.random.Generator) -> Person:
    """A person whose eye spacing, kappa, face size and webcam position lie outside the training ranges."""
    return _person(geometry.unseen_rig(rng), random_look(rng))


def _person(rig: geometry.Rig, look: Look) -> Person:
    """A person with the wall behind and the torso below where they sit (both stay put when the head moves)."""
    torso = np.asarray(rig.head.position) + _TORSO_OFFSET
    return Person(rig, look, float(rig.head.position[2]) - look.wall_distance, geometry.as_vec(torso))


def jitter(person: Person, rng: np.random.Generator) -> Person:
    """The same person moved a little, as between two webcam frames."""
    return replace(person, rig=geometry.jitter_rig(person.rig, rng))


def render(person: Person, target: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """One webcam frame (uint8 RGBA) of the person looking at target (0..1 of the screen); rng drives sensor noise only."""
    rig, look = person.rig, person.look
    camera = rig.camera
    image = _backdrop(camera, look, person.wall_z, person.torso).copy()
    level = _draw_head(image, rig, look, target)
    frame: np.ndarray = cv2.resize(image, (camera.width, camera.height), interpolation=cv2.INTER_AREA)
    # Webcams expose for the face: a dark face before a bright wall is brightened, and the reverse.
    frame *= float(np.clip(look.exposure / max(level, 1.0), 0.6, 2.6))
    frame += np.asarray(rng.normal(0, look.noise_sigma, frame.shape), dtype=np.float32)
    return cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGBA)


@functools.lru_cache(maxsize=8)
def _rays(camera: geometry.Camera) -> np.ndarray:
    """World ray directions (H*S, W*S, 3) through every sub-sample of the frame (the camera is fixed per person)."""
    s = SAMPLES
    u = (np.arange(camera.width * s, dtype=np.float32) + 0.5) / s - 0.5
    v = (np.arange(camera.height * s, dtype=np.float32) + 0.5) / s - 0.5
    rays = geometry.pixel_rays(camera, *np.meshgrid(u, v)).astype(np.float32)
    rays.setflags(write=False)
    return rays


@functools.lru_cache(maxsize=8)
def _backdrop(camera: geometry.Camera, look: Look, wall_z: float, torso: tuple[float, float, float]) -> np.ndarray:
    """What stays put while the head moves (BGR float32 at sub-sample resolution): the wall, and the torso before it."""
    image = _wall(camera, look, wall_z)
    _draw_torso(image, camera, look, torso)
    image.setflags(write=False)
    return image


def _wall(camera: geometry.Camera, look: Look, wall_z: float) -> np.ndarray:
    """The wall behind the person, the plane z = wall_z with rectangles on it.

    Cast at one ray per pixel and enlarged: the wall is out of focus anyway.
    """
    rays = _rays(camera)[SAMPLES // 2 :: SAMPLES, SAMPLES // 2 :: SAMPLES]
    origin = np.asarray(camera.position, np.float32)
    t = (wall_z - origin[2]) / np.where(np.abs(rays[..., 2]) < 1e-6, -1e-6, rays[..., 2])
    x = origin[0] + t * rays[..., 0]
    y = origin[1] + t * rays[..., 1]
    rng = np.random.default_rng(look.wall_seed)
    image = np.empty(rays.shape, np.float32)
    image[:] = look.wall
    # Posters, shelves and door frames: rectangles on the wall plane.
    for _ in range(rng.integers(3, 8)):
        cx, cy = rng.uniform(-0.8, 0.8), rng.uniform(-0.6, 0.4)
        hw, hh = rng.uniform(0.03, 0.35), rng.uniform(0.02, 0.4)
        inside = (np.abs(x - cx) < hw) & (np.abs(y - cy) < hh)
        image[inside] = looks.any_color(rng)
    # The wall faces the person; a light from the screen's side falls off across it.
    image *= (0.75 + 0.25 * np.clip(1 - 0.6 * np.hypot(x, y), 0, 1))[..., None]
    return cv2.resize(image, (camera.width * SAMPLES, camera.height * SAMPLES), interpolation=cv2.INTER_LINEAR)


def _draw_torso(image: np.ndarray, camera: geometry.Camera, look: Look, centre: tuple[float, float, float]) -> None:
    """Ray-cast the shoulders (an ellipsoid in world axes) in clothes, Lambert-lit."""
    shape = Ellipsoid(centre, _TORSO_AXES)
    pixels = geometry.project(camera, shape.corners())
    lo = np.clip(np.floor((pixels.min(axis=0) + 0.5) * SAMPLES).astype(int), 0, None)
    hi = np.ceil((pixels.max(axis=0) + 0.5) * SAMPLES).astype(int)
    y0, y1, x0, x1 = lo[1], min(image.shape[0], hi[1]), lo[0], min(image.shape[1], hi[0])
    if y1 <= y0 or x1 <= x0:
        return
    rays = _rays(camera)[y0:y1, x0:x1]
    origin = np.asarray(camera.position, np.float32)
    t = intersect_ellipsoid(shape, origin, rays)
    hit = np.isfinite(t)
    if hit.any():
        normals = ellipsoid_normals(shape, origin + t[hit][:, None] * rays[hit])
        lambert = np.clip(normals @ np.asarray(look.light, np.float32), 0, 1)
        shade = look.ambient + (1 - look.ambient) * lambert
        image[y0:y1, x0:x1][hit] = np.asarray(look.clothes, np.float32) * shade[:, None]


def _box(rig: geometry.Rig, corners: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Sub-sample bounding box (y0, y1, x0, x1) of head-coordinate corners, clipped to the frame."""
    pixels = geometry.project(rig.camera, geometry.head_to_world(rig.head, corners))
    lo = np.floor((pixels.min(axis=0) + 0.5) * SAMPLES).astype(int) - 2
    hi = np.ceil((pixels.max(axis=0) + 0.5) * SAMPLES).astype(int) + 2
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(shape[1], hi[0]), min(shape[0], hi[1])
    return (y0, y1, x0, x1) if x1 > x0 and y1 > y0 else None


def _draw_head(image: np.ndarray, rig: geometry.Rig, look: Look, target: tuple[float, float]) -> float:
    """Ray-cast neck, head, hair and eyes (head coordinates) into the sub-sample image; return the face's mean grey level."""
    rot = geometry.rotation_matrix(rig.head.yaw, rig.head.pitch, rig.head.roll).astype(np.float32)
    origin = ((np.asarray(rig.camera.position) - np.asarray(rig.head.position)) @ rot).astype(np.float32)
    centres = [np.array([side * rig.eyes.ipd / 2, 0.0, 0.0], np.float32) for side in geometry.SIDES]
    radius = rig.eyes.radius
    shapes = [(NECK, NECK_SHAPE), (SKULL, look.skull)] + [(PART0 + i, shape) for i, shape in enumerate(look.parts)]
    shapes += [(EYE0 + i, Ellipsoid(geometry.as_vec(c), (radius,) * 3)) for i, c in enumerate(centres)]
    if look.hair_style != "bald":
        shapes.append((HAIR, look.hair_shell))
    # Each part meets only the rays of its own screen box: small parts cost little.
    boxed = [(pid, shape, box) for pid, shape in shapes if (box := _box(rig, shape.corners(), image.shape)) is not None]
    if not boxed:
        return look.exposure
    y0, x0 = min(b[2][0] for b in boxed), min(b[2][2] for b in boxed)
    y1, x1 = max(b[2][1] for b in boxed), max(b[2][3] for b in boxed)
    rays = _rays(rig.camera)[y0:y1, x0:x1] @ rot
    best = np.full(rays.shape[:2], np.inf, np.float32)
    part = np.full(rays.shape[:2], WALL, np.int8)
    for pid, shape, (by0, by1, bx0, bx1) in boxed:
        window = (slice(by0 - y0, by1 - y0), slice(bx0 - x0, bx1 - x0))
        sub = rays[window]
        t = intersect_ellipsoid(shape, origin, sub)
        if pid == HAIR:
            with np.errstate(invalid="ignore"):
                p = origin + t[..., None] * sub
                t = np.where(p[..., 1] < hair_boundary(look, p[..., 0], p[..., 2]) - 0.004, t, np.inf).astype(np.float32)
        closer = t < best[window]
        best[window][closer] = t[closer]
        part[window][closer] = pid
    hit = np.isfinite(best)
    if not hit.any():
        return look.exposure
    points = origin + best[hit][:, None] * rays[hit]
    colours = surface_colours(rig, look, target, part[hit], points, rays[hit], rot, centres)
    image[y0:y1, x0:x1][hit] = colours
    face = (part[hit] != HAIR) & (part[hit] != NECK)
    return float((colours[face] @ _GREY).mean()) if face.any() else look.exposure
