"""The studio renderer's head and body parts as ellipsoids: outline, visible surface and light, in closed form.

An ellipsoid's projection is linearised at its centre (the webcam is far
from the head compared with the head's size), which makes the outline an
exact ellipse and maps every pixel to one visible surface point without
casting a ray: the unit sphere's preimage of the pixel, lifted toward the
camera along the map's null direction. The surface point gives the normal,
and the normal the light.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from gazesite.data.faces import geometry

#: How far past the terminator the key light reaches (in units of the Lambert cosine).
_WRAP = 0.25


@dataclass(frozen=True)
class Shading:
    """An ellipsoid as the webcam sees it over a canvas box: coverage, surface coordinates and light."""

    cover: np.ndarray  # (h, w) 0..1, anti-aliased edge
    x: np.ndarray  # (h, w) the visible surface point in the ellipsoid's own axes (on the unit sphere): x
    y: np.ndarray  # (h, w) and y
    light: np.ndarray  # (h, w) fill + key x Lambert (times the relief); outside the outline, the outline's


def linearised(camera: geometry.Camera, centre: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """The 2 x 3 map from an ellipsoid's own axes (columns of ``axes``, world) to frame pixels, at its centre."""
    x, y, z = geometry.to_camera(camera, centre)
    return camera.focal / z * np.array([[1, 0, -x / z], [0, 1, -y / z]]) @ np.asarray(camera.rotation) @ axes


def shade_ellipsoid(
    camera: geometry.Camera,
    centre: np.ndarray,
    axes: np.ndarray,
    light: tuple[np.ndarray, float, float],
    box: tuple[int, int, int, int],
    scale: int,
    relief: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Shading:
    """Shade an ellipsoid (world centre; columns of ``axes`` its world semi-axis vectors) over a canvas box.

    ``light`` is (world direction toward the key light, key, fill). Light
    varies slowly, so it is worked out once per frame pixel (times
    ``relief`` of the surface point, if given) and enlarged to the canvas,
    ``scale`` times the frame, whose pixel ``i`` has its centre at frame
    pixel ``(i + 0.5) / scale - 0.5``; the box's corners are multiples of ``scale``.
    """
    toward_light, key, fill = light
    x0, y0, x1, y1 = box
    rot = np.asarray(camera.rotation)
    centre_c = geometry.to_camera(camera, centre)
    axes_c = rot @ axes
    a = linearised(camera, centre, axes)
    cov = a @ a.T
    pinv = (a.T @ np.linalg.inv(cov)).astype(np.float32)
    middle = geometry.project(camera, centre)
    du = np.arange(x0 // scale, x1 // scale, dtype=np.float32) - np.float32(middle[0])
    dv = np.arange(y0 // scale, y1 // scale, dtype=np.float32) - np.float32(middle[1])
    flat = du[None, :, None] * pinv[:, 0] + dv[:, None, None] * pinv[:, 1]
    radius = np.sqrt(np.einsum("ijk,ijk->ij", flat, flat))
    depth_dir = np.cross(a[0], a[1])
    depth_dir /= np.linalg.norm(depth_dir)
    inverse = np.linalg.inv(axes_c)
    if (depth_dir @ inverse) @ -centre_c < 0:  # the lifted point must face the camera
        depth_dir = -depth_dir
    flat /= np.maximum(radius, 1)[..., None]  # outside the outline: the outline's point
    lift = np.sqrt(np.clip(1 - radius * radius, 0, 1))
    unit = flat + lift[..., None] * depth_dir.astype(np.float32)
    normal = unit @ inverse.astype(np.float32)  # rows: n^T = s^T (axes)^-1, the ellipsoid's normal
    lambert = (normal @ (rot @ toward_light).astype(np.float32)) / np.sqrt(np.einsum("ijk,ijk->ij", normal, normal))
    # Wrapped Lambert: skin scatters light a little past the terminator, so the shadow side keeps its features.
    shading = fill + key * np.clip((lambert + _WRAP) / (1 + _WRAP), 0, 1)
    if relief is not None:
        shading *= relief(unit[..., 0], unit[..., 1])
    coarse = np.dstack([unit[..., 0], unit[..., 1], shading, radius])
    fine = cv2.resize(coarse, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    minor = math.sqrt(float(np.linalg.eigvalsh(cov)[0])) * scale
    cover = np.clip(0.5 + (1 - fine[..., 3]) * minor, 0, 1)
    return Shading(cover, fine[..., 0], fine[..., 1], fine[..., 2])


def ellipse_box(camera: geometry.Camera, centre: np.ndarray, axes: np.ndarray, grow: float, scale: int) -> tuple[int, int, int, int] | None:
    """Canvas box around the ellipsoid's outline grown by ``grow`` (a share of its size), clipped to the canvas."""
    a = linearised(camera, centre, axes)
    half = np.sqrt(np.diag(a @ a.T)) * (1 + grow)
    middle = geometry.project(camera, centre)
    # Whole frame pixels: the corners are multiples of scale (see shade_ellipsoid).
    lo = np.floor(middle - half).astype(int) - 1
    hi = np.ceil(middle + half).astype(int) + 2
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(camera.width, int(hi[0])), min(camera.height, int(hi[1]))
    return (x0 * scale, y0 * scale, x1 * scale, y1 * scale) if x1 > x0 and y1 > y0 else None


def outline(camera: geometry.Camera, centre: np.ndarray, axes: np.ndarray, count: int = 48) -> np.ndarray:
    """Points (count, 2) of the ellipsoid's outline, frame pixels."""
    a = linearised(camera, centre, axes)
    values, vectors = np.linalg.eigh(a @ a.T)
    t = np.linspace(0, 2 * np.pi, count, endpoint=False)
    ring = (vectors * np.sqrt(values)) @ np.stack([np.cos(t), np.sin(t)])
    return geometry.project(camera, centre)[None] + ring.T
