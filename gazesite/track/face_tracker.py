"""Where to look for the face in a stream of frames: pure functions, twins of assets/app/track/face-tracker.js.

After a face is found, only the region around it is searched, for faces of
similar size (the cascade's small windows are its costliest work), and the
whole frame again every ``track_full_search_every`` frames or as soon as the
face is lost. Both sides run these same steps, so a sequence of frames gives
the same boxes in Python and in the page, not only single frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from gazesite.track.pipeline import Box, PipelineSpec

#: Runs the cascade in a region of the frame (None: the whole frame) for faces of low..high px (high 0: no bound), picks one.
Search = Callable[[Box | None, int, int], Box | None]


class Tracking(NamedTuple):
    """What the tracker remembers between frames."""

    last: Box | None = None
    tracked_frames: int = 0  # frames found near the last face since the last full search


NOT_TRACKING = Tracking()


def may_follow(state: Tracking, spec: PipelineSpec) -> bool:
    """True when the next frame may search near the last face only."""
    return state.last is not None and state.tracked_frames < spec.track_full_search_every


def search_window(last: Box, width: int, height: int, spec: PipelineSpec) -> tuple[Box, int, int]:
    """The region (x, y, w, h) to search around the last face, and the face sizes low..high to accept."""
    x, y, w, h = last
    margin = math.floor(w * spec.track_margin)
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
    low = max(spec.min_face_size, math.floor(w * spec.track_min_scale))
    high = max(low, math.ceil(w * spec.track_max_scale))
    return (x0, y0, x1 - x0, y1 - y0), low, high


def after_frame(state: Tracking, face: Box | None, full_search: bool) -> Tracking:
    """The state after a frame: found near the last face, or by a full search (None: no face)."""
    return Tracking(face, 0 if full_search else state.tracked_frames + 1)


def find_face(state: Tracking, width: int, height: int, search: Search, spec: PipelineSpec) -> tuple[Box | None, Tracking]:
    """The face in this frame and the state after it: near the last face if allowed and found there, else a full search."""
    if state.last is not None and may_follow(state, spec):
        region, low, high = search_window(state.last, width, height, spec)
        face = search(region, low, high)
        if face is not None:
            return face, after_frame(state, face, full_search=False)
    face = search(None, spec.min_face_size, 0)
    return face, after_frame(state, face, full_search=True)


class FaceTracker:
    """The state of one stream of frames, advanced by ``find``."""

    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.state = NOT_TRACKING

    def reset(self) -> None:
        """Forget the face: the next frame gets a full search."""
        self.state = NOT_TRACKING

    def find(self, width: int, height: int, search: Search) -> Box | None:
        """The face in the next frame of the stream (None if there is none)."""
        face, self.state = find_face(self.state, width, height, search, self.spec)
        return face
