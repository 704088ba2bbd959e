"""Fake-camera videos: Y4M files that Chromium plays back as a webcam.

Chromium's ``--use-file-for-fake-video-capture`` plays a Y4M (I420) file
nearly pixel-exact, looping it; the browser tests and ``gazesite bench`` use
it to put a synthetic face in front of the page.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from gazesite.data.faces import cartoon


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """Write RGBA frames as an I420 Y4M video (Chromium plays it nearly pixel-exact)."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            video.write(b"FRAME\n")
            video.write(cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_RGBA2RGB), cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def face_video(path: Path, seed: int = 31, targets: int = 20, hold: int = 3) -> Path:
    """One synthetic person looking at ``targets`` points, each held for ``hold`` frames."""
    rng = np.random.default_rng(seed)
    person = cartoon.random_identity(rng)
    frames = []
    for _ in range(targets):
        target = (float(rng.uniform(0, 1)), float(rng.uniform(0, 1)))
        frame = cartoon.render_face(cartoon.jitter(person, rng), target, rng)
        frames.extend([frame] * hold)
    return write_y4m(path, frames)
