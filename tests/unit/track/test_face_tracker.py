"""The face tracker's steps (gazesite/track/face_tracker.py), without a browser: the page runs the same ones."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gazesite.data.faces import cartoon
from gazesite.track.face_tracker import NOT_TRACKING, FaceTracker, Tracking, after_frame, find_face, may_follow, search_window
from gazesite.track.pipeline import PIPELINE, process_frame, track_frame


class Recorder:
    """A search that answers from a script and records what it was asked."""

    def __init__(self, answers: list) -> None:
        self.answers = list(answers)
        self.calls: list[tuple] = []

    def __call__(self, region, low, high):
        self.calls.append((region, low, high))
        return self.answers.pop(0)


def test_the_search_window_grows_the_last_box_and_stays_in_the_frame() -> None:
    region, low, high = search_window((10, 20, 100, 100), 320, 240, PIPELINE)
    assert region == (0, 0, 160, 170)  # 50 px margin per side, clipped at 0
    assert (low, high) == (80, 125)
    region, _, _ = search_window((250, 180, 80, 80), 320, 240, PIPELINE)
    assert region == (210, 140, 110, 100)  # clipped at the right and bottom edges
    _, low, _ = search_window((0, 0, 72, 72), 320, 240, PIPELINE)
    assert low == PIPELINE.min_face_size  # never below the smallest face the pipeline accepts


def test_a_found_face_is_followed_until_the_next_full_search() -> None:
    spec = replace(PIPELINE, track_full_search_every=3)
    face = (100, 50, 120, 120)
    search = Recorder([face] * 5)
    state = NOT_TRACKING
    for _ in range(5):
        _, state = find_face(state, 320, 240, search, spec)
    regions = [call[0] for call in search.calls]
    # full, near x3, full again: every `track_full_search_every` frames
    assert [r is None for r in regions] == [True, False, False, False, True]
    assert state == Tracking(face, 0)


def test_a_lost_face_falls_back_to_a_full_search_at_once() -> None:
    face = (100, 50, 120, 120)
    search = Recorder([None, face])  # not near the last face; the full search finds it elsewhere
    got, state = find_face(Tracking(face, 1), 320, 240, search, PIPELINE)
    assert got == face and state == Tracking(face, 0)
    assert search.calls[0][0] is not None and search.calls[1] == (None, PIPELINE.min_face_size, 0)
    assert not may_follow(after_frame(state, None, True), PIPELINE)


def test_tracking_a_synthetic_person_finds_the_faces_a_full_search_finds() -> None:
    rng = np.random.default_rng(3)
    person = cartoon.random_identity(rng)
    tracker = FaceTracker(PIPELINE)
    followed = 0
    for _ in range(20):
        frame = cartoon.render_face(cartoon.jitter(person, rng), (float(rng.uniform()), float(rng.uniform())), rng)
        tracked, full = track_frame(frame, tracker), process_frame(frame)
        assert (tracked.face is None) == (full.face is None)
        if tracked.face is not None:
            assert full.face is not None  # implied by the check above; narrows the type
            # The near search may settle on a box a pixel or two off the full search's; never on another face.
            assert np.abs(np.subtract(tracked.face, full.face)).max() <= 0.1 * full.face[2]
        followed += tracker.state.tracked_frames > 0
    assert followed >= 10
    tracker.reset()
    assert tracker.state == NOT_TRACKING
