"""The frames both pipelines see in the parity tests: faces, no faces, two faces."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from gazesite.data import faces

from . import to_rgba


def parity_frames() -> list[tuple[str, np.ndarray]]:
    """Return (name, RGBA frame) pairs covering the cases the pipeline must agree on."""
    from skimage import data

    astronaut = data.astronaut()
    rng = np.random.default_rng(2024)
    frames: list[tuple[str, np.ndarray]] = [("astronaut", to_rgba(astronaut))]

    # The astronaut as a 320x240 camera would see her: several zooms and shifts.
    for i, (scale, dx, dy) in enumerate([(0.62, 0, 0), (0.75, -40, -10), (0.9, -90, -20), (0.55, 30, 10), (0.7, -60, 5)]):
        small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((240, 320, 3), 90, np.uint8)
        x0, y0 = dx, dy
        src = small[max(0, -y0) : max(0, -y0) + 240, max(0, -x0) : max(0, -x0) + 320]
        canvas[max(0, y0) : max(0, y0) + src.shape[0], max(0, x0) : max(0, x0) + src.shape[1]] = src[: 240 - max(0, y0), : 320 - max(0, x0)]
        frames.append((f"astronaut-camera-{i}", to_rgba(canvas)))

    # Photometric variations: darker, brighter, flipped, noisy.
    frames.append(("astronaut-dark", to_rgba((astronaut * 0.6).astype(np.uint8))))
    frames.append(("astronaut-bright", to_rgba(np.clip(astronaut.astype(int) + 40, 0, 255).astype(np.uint8))))
    frames.append(("astronaut-flipped", to_rgba(astronaut[:, ::-1])))
    noisy = np.clip(astronaut + rng.normal(0, 12, astronaut.shape), 0, 255).astype(np.uint8)
    frames.append(("astronaut-noisy", to_rgba(noisy)))

    # Synthetic faces from the default stream.
    for i, sample in enumerate(itertools.islice(faces.samples("cartoon", seed=77), 16)):
        frames.append((f"synthetic-{i}", sample.frame))

    # No face at all.
    frames.append(("uniform-gray", np.full((240, 320, 4), 128, np.uint8)))
    frames.append(("noise", rng.integers(0, 256, (240, 320, 4), dtype=np.uint8)))
    frames.append(("astronaut-no-face", to_rgba(np.ascontiguousarray(astronaut[300:540, 250:570]))))

    # Two faces: the largest must win on both sides.
    head = to_rgba(astronaut[20:260, 90:310])
    two = np.full((300, 600, 4), 255, np.uint8)
    two[30:270, 340:560] = head
    two[60:240, 40:205] = cv2.resize(head, (165, 180), interpolation=cv2.INTER_AREA)
    frames.append(("two-astronauts", two))
    stream = faces.samples("cartoon", seed=5, frames_per_person=1)
    left, right = next(stream).frame, next(stream).frame
    frames.append(("two-synthetic", np.ascontiguousarray(np.concatenate([left, right], axis=1))))
    return frames
