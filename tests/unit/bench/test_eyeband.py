"""Where the eye band lands on the eyes a renderer drew."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gazesite.bench.eyeband import BandOffset, band_offset, summarize_offsets
from gazesite.data import faces
from gazesite.track.pipeline import PIPELINE


@pytest.fixture(scope="module")
def vector_frame() -> faces.SyntheticSample:
    (person,) = faces.unseen_people("vector", 1)
    return faces.person_frames("vector", person, [(0.5, 0.5)], 1, seed=3)[0]


def test_the_band_sits_on_the_eyes_of_a_training_renderer(vector_frame: faces.SyntheticSample) -> None:
    offset = band_offset(vector_frame.frame, vector_frame.identity.rig, vector_frame.target)
    assert offset is not None and offset.inside
    assert abs(offset.dx) < 0.1 and abs(offset.dy) < 0.5


def test_a_band_moved_down_by_its_height_reads_one_height_above(vector_frame: faces.SyntheticSample) -> None:
    rig = vector_frame.identity.rig
    here = band_offset(vector_frame.frame, rig, vector_frame.target)
    height = PIPELINE.eyes_bottom - PIPELINE.eyes_top
    lower = replace(PIPELINE, eyes_top=PIPELINE.eyes_top + height, eyes_bottom=PIPELINE.eyes_bottom + height)
    moved = band_offset(vector_frame.frame, rig, vector_frame.target, lower)
    assert here is not None and moved is not None
    assert moved.dy == pytest.approx(here.dy - 1.0, abs=0.02) and moved.dx == pytest.approx(here.dx, abs=0.02)
    assert not moved.inside


def test_a_frame_without_a_face_has_no_offset(vector_frame: faces.SyntheticSample) -> None:
    blank = vector_frame.frame.copy()
    blank[..., :3] = 128
    assert band_offset(blank, vector_frame.identity.rig, vector_frame.target) is None


def test_offsets_summarise_as_medians_and_a_share() -> None:
    assert summarize_offsets([]) is None
    offsets = [BandOffset(0.0, 0.1, True), BandOffset(0.2, 0.5, False), BandOffset(0.1, 0.2, True), BandOffset(0.1, 0.3, True)]
    assert summarize_offsets(offsets) == {"dx": 0.1, "dy": 0.25, "inside": 0.75}
