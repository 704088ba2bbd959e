"""``gazesite bench detectors``: the shipped face detector against cheaper ones, on the same frames.

Full-frame detection is most of a frame's time in the browser. This measures
what a cheaper detector would cost in faces: for each candidate, how many
frames of each face renderer it finds a face in, how many of its boxes are the
shipped detector's boxes exactly (the model was trained on crops of those
boxes, so any other box means retraining), and its median time with OpenCV on
one thread, as the page's WebAssembly build runs it.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gazesite.errors import GazesiteError
from gazesite.track.pipeline import PIPELINE, Box

log = logging.getLogger(__name__)

#: Renderers measured, and each one's frame-stream seed (fixed, so every run sees the same frames).
DETECTOR_RENDERERS = {"cartoon": 11, "vector": 12, "raycast": 13}
#: Real faces: scikit-image's LFW faces (25x25 px; it has 100) enlarged to these face sizes on a grey 320x240 frame.
REAL_FACES = 100
REAL_FACE_SIZES = (85, 120, 170)
REAL = "real"
#: A cascade file larger than this is not a face cascade (OpenCV's largest is under 2 MB).
MAX_CASCADE_BYTES = 16 * 2**20
#: Another frontal-face Haar cascade that ships with OpenCV (different boxes, so a model trained on it would differ).
OTHER_HAAR = "haarcascade_frontalface_alt2.xml"

Detector = Callable[[np.ndarray], Box | None]


@dataclass
class DetectorRow:
    """One candidate's figures."""

    name: str
    found: dict[str, int] = field(default_factory=dict)
    same_boxes: int = 0
    ms: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return {
            "name": self.name,
            "found": self.found,
            "same_boxes_as_shipped": self.same_boxes,
            "median_ms_one_thread": round(statistics.median(self.ms), 3),
        }


def load_cascade(path: Path) -> Any:
    """Load a cascade XML file, or stop with a one-line error naming it."""
    import cv2

    if path.is_symlink() or not path.is_file():
        raise GazesiteError(f"cascade {path}: expected a regular file (an OpenCV cascade XML), not a link, folder or missing path")
    if path.stat().st_size > MAX_CASCADE_BYTES:
        raise GazesiteError(f"cascade {path}: {path.stat().st_size} bytes; an OpenCV cascade XML is at most {MAX_CASCADE_BYTES} bytes")
    try:
        cascade = cv2.CascadeClassifier(str(path))
    except (cv2.error, SystemError):  # OpenCV's parser rejects some text with a SystemError, not cv2.error
        cascade = None
    if cascade is None or cascade.empty():
        raise GazesiteError(f"cascade {path}: OpenCV cannot read it as a cascade classifier XML")
    return cascade


def _cascade_detector(cascade: Any, scale_factor: float = PIPELINE.scale_factor, min_size: int = PIPELINE.min_face_size) -> Detector:
    """The pipeline's detection with another cascade or other parameters."""
    from gazesite.track.pipeline import pick_face

    def detect(gray: np.ndarray) -> Box | None:
        found = cascade.detectMultiScale(
            gray, scaleFactor=scale_factor, minNeighbors=PIPELINE.min_neighbors, flags=PIPELINE.detect_flags, minSize=(min_size, min_size)
        )
        return pick_face([tuple(int(v) for v in box) for box in found])  # type: ignore[misc]

    return detect


def _halved(detect: Detector) -> Detector:
    """Detect on the frame shrunk to half its size (faces from half the minimum size), boxes scaled back."""
    import cv2

    def run(gray: np.ndarray) -> Box | None:
        box = detect(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
        return None if box is None else (box[0] * 2, box[1] * 2, box[2] * 2, box[3] * 2)

    return run


def _proposed(propose: Detector) -> Detector:
    """A cheaper cascade proposes a face; the shipped one searches only near it (the live tracker's window), else everywhere."""
    from gazesite.track.face_tracker import search_window
    from gazesite.track.pipeline import search_faces

    def run(gray: np.ndarray) -> Box | None:
        proposal = propose(gray)
        if proposal is not None:
            region, low, high = search_window(proposal, gray.shape[1], gray.shape[0], PIPELINE)
            face = search_faces(gray, region, low, high)
            if face is not None:
                return face
        return search_faces(gray, None, PIPELINE.min_face_size, 0)

    return run


def candidates(extra_cascades: tuple[Path, ...]) -> dict[str, Detector]:
    """The shipped detector first, then cheaper variants of it, another Haar cascade, and each given cascade."""
    from gazesite.track.pipeline import cascade_path

    shipped = load_cascade(cascade_path())
    found: dict[str, Detector] = {
        f"shipped ({PIPELINE.cascade_file}, scale {PIPELINE.scale_factor}, min {PIPELINE.min_face_size} px)": _cascade_detector(shipped),
        "shipped, frame halved (min half as large)": _halved(_cascade_detector(shipped, min_size=math.ceil(PIPELINE.min_face_size / 2))),
        "shipped, scale 1.2": _cascade_detector(shipped, scale_factor=1.2),
        "shipped, min 80 px": _cascade_detector(shipped, min_size=80),
        OTHER_HAAR: _cascade_detector(load_cascade(cascade_path().parent / OTHER_HAAR)),
    }
    for path in extra_cascades:
        other = _cascade_detector(load_cascade(path))
        found[path.name] = other
        found[f"{path.name} proposes, shipped confirms near it"] = _proposed(other)
    return found


def renderer_frames(renderer: str, count: int) -> list[np.ndarray]:
    """The first ``count`` gray frames of a renderer's fixed stream, faces or not (detection is what is measured)."""
    from gazesite.data import faces
    from gazesite.track.pipeline import to_gray

    return [to_gray(sample.frame) for sample in itertools.islice(faces.samples(renderer, DETECTOR_RENDERERS[renderer]), count)]


def real_frames(count: int) -> list[np.ndarray]:
    """Real faces as a camera frame would hold them: the first ``count`` LFW faces of scikit-image at every REAL_FACE_SIZES, centred."""
    import cv2
    from skimage import data

    faces = (data.lfw_subset()[: min(count, REAL_FACES)] * 255).round().astype(np.uint8)  # its first 100 images are faces
    frames = []
    for face in faces:
        for size in REAL_FACE_SIZES:
            frame = np.full((PIPELINE.camera_height, PIPELINE.camera_width), 128, np.uint8)
            top, left = (PIPELINE.camera_height - size) // 2, (PIPELINE.camera_width - size) // 2
            frame[top : top + size, left : left + size] = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
            frames.append(frame)
    return frames


def frame_sets(frames: int) -> dict[str, list[np.ndarray]]:
    """The frames of each renderer (``frames`` each) and of up to ``frames`` real faces (each at every size), by name."""
    return {**{renderer: renderer_frames(renderer, frames) for renderer in DETECTOR_RENDERERS}, REAL: real_frames(frames)}


def run_detectors(frames: int, extra_cascades: tuple[Path, ...] = (), json_out: Path | None = None) -> dict[str, Any]:
    """Every candidate on the same frames of every renderer, interleaved frame by frame so drift hits all alike."""
    import cv2

    detectors = candidates(extra_cascades)
    sets = frame_sets(frames)
    rows = {name: DetectorRow(name, found=dict.fromkeys(sets, 0)) for name in detectors}
    shipped_name = next(iter(detectors))
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # the page's OpenCV runs on one thread
    try:
        for renderer, grays in sets.items():
            log.info("detectors on %d %s frames", len(grays), renderer)
            for gray in grays:
                boxes = {}
                for name, detect in detectors.items():
                    began = time.perf_counter()
                    boxes[name] = detect(gray)
                    rows[name].ms.append((time.perf_counter() - began) * 1000)
                for name, box in boxes.items():
                    rows[name].found[renderer] += box is not None
                    rows[name].same_boxes += box is not None and box == boxes[shipped_name]
    finally:
        cv2.setNumThreads(threads)
    report = {"frames": {name: len(grays) for name, grays in sets.items()}, "rows": [row.to_json() for row in rows.values()]}
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2) + "\n")
    return report


def format_detectors(report: dict[str, Any]) -> str:
    """The report as a plain-text table: faces found per renderer, boxes equal to the shipped ones, time."""
    rows, sets = report["rows"], report["frames"]
    shipped_ms = rows[0]["median_ms_one_thread"]
    width = max(len(row["name"]) for row in rows) + 2
    header = f"{'detector':<{width}}" + "".join(f"{name:>9}" for name in sets) + f"{'same box':>10}{'ms (1 thread)':>15}{'x shipped':>11}"
    counts = ", ".join(f"{name} {count}" for name, count in sets.items())
    lines = [f"faces found per set of frames ({counts}); same box: boxes equal to the shipped detector's", header, "-" * len(header)]
    for row in rows:
        found = "".join(f"{row['found'][name]:>9}" for name in sets)
        ms = row["median_ms_one_thread"]
        lines.append(f"{row['name']:<{width}}{found}{row['same_boxes_as_shipped']:>10}{ms:>15.2f}{ms / shipped_ms:>10.2f}x")
    return "\n".join(lines)
