"""Domain randomisation for training frames of any renderer: what cheap webcams and video links do to a face.

Steps follow a webcam's own order: lens (vignetting, blur), sensor (noise),
processing (gamma, brightness and contrast, white balance), then scaling
(a low-resolution sensor scaled up) and JPEG compression at a random
quality. Every random number is drawn up front in one fixed order, so the
same generator state always gives the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Degradation:
    """One draw of every augmentation setting."""

    vignetting: float  # darkening at the corners, 0..1
    blur_sigma: float  # pixels; below _MIN_BLUR nothing is blurred
    noise_sigma: float  # in 0..1 units of the signal
    gamma: float
    contrast: float
    brightness: float
    cast: tuple[float, float, float]  # per-channel gain (BGR)
    scale: float  # 1 = full resolution; lower = shrunk, then enlarged again
    jpeg_quality: int  # 0 = no re-encoding


#: Blur and scaling that change less than this are skipped (they would only cost time).
_MIN_BLUR = 0.3
_MIN_SCALE_CHANGE = 0.9
#: Chance that a frame goes through a JPEG encoder (most webcam and video-call paths do).
_JPEG_CHANCE = 0.7


def draw(rng: np.random.Generator) -> Degradation:
    """Draw the settings for one frame."""
    values = rng.uniform(size=10)  # one fixed-size draw: the same rng state, the same settings
    cast = rng.normal(0, 0.06, 3)
    blue, green, red = (float(np.clip(1 + c, 0.8, 1.2)) for c in cast)
    return Degradation(
        vignetting=0.5 * values[0] ** 2,
        blur_sigma=1.5 * values[1] ** 1.5,
        noise_sigma=0.035 * values[2] ** 1.5,
        gamma=float(np.exp(np.log(1.7) * (2 * values[3] - 1))),  # 1/1.7 .. 1.7, centred on 1
        contrast=0.7 + 0.6 * values[4],
        brightness=0.3 * (values[5] - 0.5),
        cast=(blue, green, red),
        scale=float(1.0 if values[6] < 0.4 else 0.3 + 0.7 * values[7]),
        jpeg_quality=int(20 + 75 * values[9]) if values[8] < _JPEG_CHANCE else 0,
    )


def augment(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A degraded copy of an RGBA uint8 frame (same shape, alpha 255), deterministic by rng."""
    return apply(frame, draw(rng), rng)


def apply(frame: np.ndarray, settings: Degradation, rng: np.random.Generator) -> np.ndarray:
    """Apply given settings; rng drives only the sensor noise."""
    height, width = frame.shape[:2]
    image: np.ndarray = cv2.cvtColor(frame, cv2.COLOR_RGBA2BGR).astype(np.float32) / 255
    if settings.vignetting > 0:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        r2 = ((xx - width / 2) / (width / 2)) ** 2 + ((yy - height / 2) / (height / 2)) ** 2
        image *= (1 - settings.vignetting * r2 / 2)[..., None]
    if settings.blur_sigma >= _MIN_BLUR:
        image = cv2.GaussianBlur(image, (0, 0), settings.blur_sigma)
    image += np.asarray(rng.normal(0, settings.noise_sigma, image.shape), dtype=np.float32)
    image = np.clip(image, 0, 1) ** settings.gamma
    image = (image - 0.5) * settings.contrast + 0.5 + settings.brightness
    image *= np.array(settings.cast, np.float32)
    out: np.ndarray = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    if settings.scale < _MIN_SCALE_CHANGE:
        small = (max(16, round(width * settings.scale)), max(12, round(height * settings.scale)))
        out = cv2.resize(cv2.resize(out, small, interpolation=cv2.INTER_AREA), (width, height), interpolation=cv2.INTER_LINEAR)
    if settings.jpeg_quality:
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
        if decoded is not None:  # None only if OpenCV cannot read back what it just encoded
            out = decoded
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGBA)
