"""The frame pipeline, Python side: RGBA frame -> face box -> 50x50 crop.

The browser runs the same steps with OpenCV.js. Every number both sides need
lives in :data:`PIPELINE` and reaches JavaScript as JSON
(:func:`pipeline_constants`), so no constant is typed twice.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from gazesite.track.face_tracker import FaceTracker

#: Bumped whenever a change to the steps or constants changes the crops.
PIPELINE_VERSION = 1

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class PipelineSpec:
    """Every constant of the frame pipeline, in the order the steps use them."""

    cascade_file: str = "haarcascade_frontalface_default.xml"
    scale_factor: float = 1.1
    min_neighbors: int = 3
    detect_flags: int = 0
    min_face_size: int = 70
    # The crop's side and the model's input channels; a model of the user's
    # may ask for others (spec_for_input_shape). Crops are always grayscale:
    # a 3-channel model gets the same crop in every channel.
    crop_size: int = 50
    channels: int = 1
    clahe_clip_limit: float = 40.0
    clahe_tile_grid: int = 8
    # Model input = crop / pixel_scale, shape [N, crop, crop, 1].
    pixel_scale: float = 255.0
    camera_width: int = 320
    camera_height: int = 240
    # Live tracking (FaceTracker): after a face is found, search only near it,
    # for faces of similar size, and the whole frame again every N frames or
    # as soon as the face is lost. Small windows are the cascade's costliest
    # scales, so this cuts detection time several-fold.
    track_full_search_every: int = 10
    track_margin: float = 0.5  # the search region: the last box grown by this fraction of its width per side
    track_min_scale: float = 0.8  # face sizes searched: this to track_max_scale times the last width
    track_max_scale: float = 1.25
    # The eye band the calibration reads: this part of the face box (fractions
    # of its width and height), cut from the full-resolution gray frame at
    # eyes_width x eyes_height with a margin of eyes_margin_x/y band pixels on
    # every side, so the calibration can register the band to the person's
    # own eyes (the face box jitters by a few pixels from frame to frame, as
    # much as the iris moves). The 50x50 crop halves the iris's travel and its
    # equalisation bends grey levels; this band keeps both.
    eyes_left: float = 0.05
    eyes_right: float = 0.95
    eyes_top: float = 0.22
    eyes_bottom: float = 0.55
    eyes_width: int = 96
    eyes_height: int = 32
    eyes_margin_x: int = 12
    eyes_margin_y: int = 8


PIPELINE = PipelineSpec()


@dataclass(frozen=True)
class FrameResult:
    """What the pipeline found in one frame."""

    face: Box | None
    crop: np.ndarray | None
    eyes: np.ndarray | None = None  # the eye band with its margins, uint8


#: Crop sizes a model may ask for: smaller loses the eyes, larger only costs time.
CROP_SIZE_RANGE = (16, 256)


def pipeline_constants(spec: PipelineSpec = PIPELINE) -> dict[str, Any]:
    """Return the pipeline constants as JSON-ready data for the browser and metadata."""
    return {"version": PIPELINE_VERSION, **asdict(spec)}


def input_shape_problem(shape: tuple[Any, ...]) -> str | None:
    """Return why a model input shape (without the batch axis) cannot take face crops, or None."""
    low, high = CROP_SIZE_RANGE
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] not in (1, 3):
        return f"input shape {tuple(shape)} is not (S, S, 1) or (S, S, 3)"
    if not isinstance(shape[0], int) or not low <= shape[0] <= high:
        return f"input shape {tuple(shape)} asks for {shape[0]}px crops; gazesite crops {low} to {high}px"
    return None


def spec_for_input_shape(shape: tuple[Any, ...]) -> PipelineSpec:
    """Return the pipeline that feeds a model with this input shape (call input_shape_problem first)."""
    if input_shape_problem(shape):
        raise ValueError(input_shape_problem(shape))
    return replace(PIPELINE, crop_size=int(shape[0]), channels=int(shape[2]))


def cascade_path() -> Path:
    """Return the Haar cascade XML that ships with OpenCV (the browser gets a copy)."""
    return Path(cv2.data.haarcascades) / PIPELINE.cascade_file  # type: ignore[attr-defined]  # the stubs omit cv2.data


@functools.cache
def _cascade() -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(str(cascade_path()))
    if cascade.empty():
        raise RuntimeError(f"could not load the Haar cascade {cascade_path()}")
    return cascade


@functools.cache
def _clahe() -> cv2.CLAHE:
    grid = PIPELINE.clahe_tile_grid
    return cv2.createCLAHE(clipLimit=PIPELINE.clahe_clip_limit, tileGridSize=(grid, grid))


def to_gray(rgba: np.ndarray) -> np.ndarray:
    """Convert an RGBA uint8 frame (H, W, 4) to grayscale, as the browser does."""
    if not (isinstance(rgba, np.ndarray) and rgba.dtype == np.uint8 and rgba.ndim == 3 and rgba.shape[2] == 4):
        shape = getattr(rgba, "shape", None)
        dtype = getattr(rgba, "dtype", None)
        raise ValueError(f"frame must be uint8 RGBA of shape (H, W, 4), got shape {shape} dtype {dtype}")
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY)


def detect_faces(gray: np.ndarray, min_size: int = PIPELINE.min_face_size, max_size: int = 0) -> list[Box]:
    """Return every face rectangle the Haar cascade finds in a grayscale frame (max_size 0: no limit)."""
    faces = _cascade().detectMultiScale(
        gray,
        scaleFactor=PIPELINE.scale_factor,
        minNeighbors=PIPELINE.min_neighbors,
        flags=PIPELINE.detect_flags,
        minSize=(min_size, min_size),
        maxSize=(max_size, max_size),
    )
    return [tuple(int(v) for v in face) for face in faces]  # type: ignore[misc]


def pick_face(faces: list[Box]) -> Box | None:
    """Pick the largest face; ties go to the smallest y, then the smallest x.

    OpenCV returns rectangles in an order that varies between threads and
    between Python and JS, so "the first face" is not reproducible.
    """
    if not faces:
        return None
    return min(faces, key=lambda f: (-f[2] * f[3], f[1], f[0]))


def crop_face(gray: np.ndarray, face: Box, spec: PipelineSpec = PIPELINE) -> np.ndarray:
    """Cut the face out, shrink it to the crop size and normalise its contrast."""
    x, y, w, h = face
    size = spec.crop_size
    roi = gray[y : y + h, x : x + w]
    small = cv2.resize(roi, (size, size), interpolation=cv2.INTER_AREA)
    return _clahe().apply(cv2.equalizeHist(small))


def eye_region(face: Box, width: int, height: int, spec: PipelineSpec = PIPELINE) -> Box:
    """The eye band's rectangle in the frame, margins included, clipped to the frame (as the page computes it)."""
    x, y, w, h = face
    # Margins in frame pixels: eyes_margin_* band pixels at the band's scale.
    margin_x = w * (spec.eyes_right - spec.eyes_left) * spec.eyes_margin_x / spec.eyes_width
    margin_y = h * (spec.eyes_bottom - spec.eyes_top) * spec.eyes_margin_y / spec.eyes_height
    x0 = max(0, x + math.floor(w * spec.eyes_left - margin_x))
    x1 = min(width, x + math.floor(w * spec.eyes_right + margin_x))
    y0 = max(0, y + math.floor(h * spec.eyes_top - margin_y))
    y1 = min(height, y + math.floor(h * spec.eyes_bottom + margin_y))
    return x0, y0, x1 - x0, y1 - y0


def cut_eyes(gray: np.ndarray, face: Box, spec: PipelineSpec = PIPELINE) -> np.ndarray:
    """Cut the eye band with its margins out of the full-resolution gray frame (uint8, no equalisation)."""
    x, y, w, h = eye_region(face, gray.shape[1], gray.shape[0], spec)
    size = (spec.eyes_width + 2 * spec.eyes_margin_x, spec.eyes_height + 2 * spec.eyes_margin_y)
    return cv2.resize(gray[y : y + h, x : x + w], size, interpolation=cv2.INTER_AREA)


def frame_result(gray: np.ndarray, face: Box | None, spec: PipelineSpec = PIPELINE) -> FrameResult:
    """The crop and the eye band of a found face (or nothing)."""
    if face is None:
        return FrameResult(face=None, crop=None)
    return FrameResult(face=face, crop=crop_face(gray, face, spec), eyes=cut_eyes(gray, face, spec))


def process_frame(rgba: np.ndarray, spec: PipelineSpec = PIPELINE) -> FrameResult:
    """Run the whole pipeline on one RGBA frame."""
    gray = to_gray(rgba)
    return frame_result(gray, pick_face(detect_faces(gray)), spec)


def search_faces(gray: np.ndarray, region: Box | None, low: int, high: int) -> Box | None:
    """The face the cascade picks in a region of the frame (None: the whole frame), of low..high px (high 0: no bound)."""
    if region is None:
        return pick_face(detect_faces(gray, low, high))
    rx, ry, rw, rh = region
    found = detect_faces(gray[ry : ry + rh, rx : rx + rw], low, high)
    return pick_face([(x + rx, y + ry, w, h) for x, y, w, h in found])


def track_frame(rgba: np.ndarray, tracker: FaceTracker) -> FrameResult:
    """The whole pipeline on the next frame of a sequence, the face followed by ``tracker`` (the page's live loop)."""
    gray = to_gray(rgba)
    face = tracker.find(gray.shape[1], gray.shape[0], lambda region, low, high: search_faces(gray, region, low, high))
    return frame_result(gray, face, tracker.spec)


def crops_to_input(crops: np.ndarray, channels: int = 1) -> np.ndarray:
    """Turn uint8 crops (N, S, S) into the model's float32 input (N, S, S, channels)."""
    crops = np.asarray(crops)
    scaled = (crops.astype(np.float32) / np.float32(PIPELINE.pixel_scale))[..., np.newaxis]
    return np.repeat(scaled, channels, axis=-1) if channels > 1 else scaled
