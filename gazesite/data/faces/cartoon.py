"""Renderer "cartoon": :mod:`gazesite.data.synthetic`'s 2D drawing behind the common renderer interface.

random_person, jitter and render are synthetic's own functions, so frames are
exactly what synthetic draws (the shipped default model learned from them).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gazesite.data import synthetic
from gazesite.data.faces.geometry import outside
from gazesite.track.pipeline import PIPELINE

random_person = synthetic.random_identity
jitter = synthetic.jitter
render = synthetic.render_face

#: synthetic.random_identity's ranges that an unseen person leaves (keep in step with it).
_FACE_WIDTH = (0.30, 0.50)  # of the frame width
_EYE_SPACING = (0.38, 0.46)
_GAIN_SPREAD = (0.92, 1.08)


def unseen_person(rng: np.random.Generator) -> synthetic.Identity:
    """A cartoon person outside the training ranges, in the spirit of synthetic.unseen_person.

    Wider- or closer-set eyes, a face smaller or larger than any in training,
    irises that travel less than any trained person's and rest off-centre.
    """
    base = synthetic.random_identity(rng)
    width, height = PIPELINE.camera_width, PIPELINE.camera_height
    face_width = outside(rng, _FACE_WIDTH[0], _FACE_WIDTH[1], 0.04) * width
    margin_x, margin_y = face_width * 0.6, face_width * base.aspect * 0.55
    return replace(
        base,
        face_width=face_width,
        center_x=float(rng.uniform(margin_x, width - margin_x)),
        center_y=float(rng.uniform(margin_y, max(margin_y + 1, height - margin_y))),
        eye_spacing=outside(rng, _EYE_SPACING[0], _EYE_SPACING[1], 0.04),
        gaze_gain_x=0.45 * float(rng.uniform(0.75, _GAIN_SPREAD[0])),
        gaze_gain_y=0.35 * float(rng.uniform(0.75, _GAIN_SPREAD[0])),
        gaze_bias_x=float(rng.choice([-1, 1]) * rng.uniform(0.08, 0.22)),
        gaze_bias_y=float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.12)),
    )
