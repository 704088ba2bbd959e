"""A cluttered room behind the person, for the vector renderer: wall, window, shelf, poster, shapes.

A real webcam sees edges and objects behind the head; a flat wall teaches a
model that everything with contrast is face. The room is fixed per person
(one person sits in one room), so it is drawn from its own seed and cached.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from gazesite.data.faces.looks import any_color, shade

#: Drawn at this multiple of the frame size, then shrunk, for anti-aliased edges.
_ROOM_SUPERSAMPLE = 2


@functools.lru_cache(maxsize=8)
def room(seed: int, width: int, height: int) -> np.ndarray:
    """The background of one person's room (float32 BGR, height x width); do not modify it."""
    rng = np.random.default_rng(seed)
    s = _ROOM_SUPERSAMPLE
    w, h = width * s, height * s
    wall = np.array(any_color(rng, 60, 230))
    ramp = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.2), h, dtype=np.float32)[:, None, None]
    img = np.clip(np.broadcast_to(wall, (h, w, 3)) * ramp, 0, 255).astype(np.uint8)
    for draw in rng.permutation(np.array([_window, _shelf, _poster, _door], dtype=object))[: rng.integers(1, 4)]:
        draw(img, rng, w, h)
    for _ in range(rng.integers(2, 8)):
        _shape(img, rng, w, h)
    small = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    small.setflags(write=False)
    return small


def _window(img: np.ndarray, rng: np.random.Generator, w: int, h: int) -> None:
    """A bright window with a frame and panes."""
    x0, y0 = int(rng.uniform(0, 0.6) * w), int(rng.uniform(0, 0.3) * h)
    x1, y1 = x0 + int(rng.uniform(0.25, 0.5) * w), y0 + int(rng.uniform(0.3, 0.6) * h)
    cv2.rectangle(img, (x0, y0), (x1, y1), any_color(rng, 190, 255), -1)
    frame = any_color(rng, 30, 200)
    cv2.rectangle(img, (x0, y0), (x1, y1), frame, int(rng.integers(4, 12)))
    cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), frame, int(rng.integers(3, 8)))
    cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), frame, int(rng.integers(3, 8)))


def _shelf(img: np.ndarray, rng: np.random.Generator, w: int, h: int) -> None:
    """A shelf board with a shadow and a row of books."""
    y = int(rng.uniform(0.15, 0.6) * h)
    x0, x1 = int(rng.uniform(0, 0.4) * w), int(rng.uniform(0.6, 1.0) * w)
    board = any_color(rng, 40, 200)
    cv2.rectangle(img, (x0, y), (x1, y + 8), board, -1)
    cv2.rectangle(img, (x0, y + 8), (x1, y + 18), shade(tuple(img[min(y + 20, h - 1), x0].tolist()), 0.7), -1)
    x = x0 + int(rng.integers(0, 20))
    while x < x1 - 10:
        bw, bh = int(rng.integers(8, 22)), int(rng.integers(40, 90))
        cv2.rectangle(img, (x, y - bh), (x + bw, y), any_color(rng), -1)
        cv2.line(img, (x + bw, y - bh), (x + bw, y), (20, 20, 20), 1)
        x += bw + int(rng.integers(0, 6))


def _poster(img: np.ndarray, rng: np.random.Generator, w: int, h: int) -> None:
    """A framed poster with shapes and lines of 'text'."""
    x0, y0 = int(rng.uniform(0, 0.75) * w), int(rng.uniform(0, 0.5) * h)
    pw, ph = int(rng.uniform(0.15, 0.3) * w), int(rng.uniform(0.2, 0.4) * h)
    cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), any_color(rng), -1)
    cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), any_color(rng, 0, 80), int(rng.integers(2, 8)))
    for _ in range(rng.integers(1, 4)):
        cx, cy = x0 + int(rng.uniform(0.2, 0.8) * pw), y0 + int(rng.uniform(0.2, 0.6) * ph)
        cv2.circle(img, (cx, cy), int(rng.uniform(0.08, 0.25) * pw), any_color(rng), -1, cv2.LINE_AA)
    for i in range(rng.integers(2, 6)):
        ty = y0 + int(ph * (0.7 + 0.06 * i))
        if ty < y0 + ph - 4:
            cv2.line(img, (x0 + pw // 8, ty), (x0 + int(pw * rng.uniform(0.4, 0.85)), ty), any_color(rng, 0, 90), 2)


def _door(img: np.ndarray, rng: np.random.Generator, w: int, h: int) -> None:
    """A door edge: two long vertical lines and a darker panel."""
    x = int(rng.uniform(0, 0.9) * w)
    dw = int(rng.uniform(0.15, 0.3) * w)
    cv2.rectangle(img, (x, 0), (x + dw, h), any_color(rng, 40, 220), -1)
    cv2.line(img, (x, 0), (x, h), any_color(rng, 0, 100), int(rng.integers(3, 9)))
    cv2.circle(img, (x + dw - 14, h // 2), 6, any_color(rng, 120, 255), -1, cv2.LINE_AA)


def _shape(img: np.ndarray, rng: np.random.Generator, w: int, h: int) -> None:
    """A random circle, triangle or box: lamps, plants, boxes."""
    color = any_color(rng, 20, 240)
    cx, cy, size = int(rng.uniform(0, w)), int(rng.uniform(0, h)), int(rng.uniform(0.03, 0.12) * w)
    kind = rng.integers(3)
    if kind == 0:
        cv2.circle(img, (cx, cy), size, color, -1, cv2.LINE_AA)
    elif kind == 1:
        pts = np.array([[cx, cy - size], [cx - size, cy + size], [cx + size, cy + size]], np.int32)
        cv2.fillPoly(img, [pts], color, cv2.LINE_AA)
    else:
        cv2.rectangle(img, (cx - size, cy - size // 2), (cx + size, cy + size // 2), color, -1)
