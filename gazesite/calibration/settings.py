"""Every constant of the calibration maths, defined once: Python uses them, the page reads them from the build.

Measured on unseen synthetic people (docs: measurements/accuracy.md); each comment
says why its value was chosen.
"""

from __future__ import annotations

from typing import Any

#: Penalties tried for the features candidate, strongest first (ties go to the simpler fit).
FEATURE_LAMBDAS = (1e3, 1e2, 1e1, 1.0, 1e-1, 1e-2, 1e-3)
#: The affine candidate's penalty: only there to keep 2x2 problems solvable when targets are few.
AFFINE_LAMBDA = 1e-3
#: Penalties of the eye-band candidates, as fractions of the mean squared norm of the centred rows.
#: Below 1e-4 the error no longer changes, and the leave-one-out solves stay well conditioned.
EYE_LAMBDAS = (1.0, 1e-1, 1e-2, 1e-3, 1e-4)
#: Weights of the CNN block beside the eye band, as a share of the eye band's energy.
MIX_WEIGHTS = (0.1, 1.0)
#: Fewer targets than this cannot separate an offset and a scale per axis from noise.
MIN_TARGETS = 3
#: Rounds of "register every frame to the mean, take the new mean" that build the eye reference.
REFERENCE_ROUNDS = 3
#: The eye registration's coarse search runs on the band shrunk by this factor, the fine one around its best shift.
COARSE = 2
#: Binomial smoothing of the registered, halved eye band, per axis: [1 2 1] / 4 beat [1 4 6 4 1] / 16,
#: [1 8 28 56 70 56 28 8 1] / 256 and none (median 0.061 against 0.064, 0.075, 0.068 of the screen).
SMOOTHING = (1.0, 2.0, 1.0)
#: The fine-tuning candidate: full-batch Adam steps, learning rate, and the pull towards the trained weights.
FINETUNE_STEPS = 100
FINETUNE_LEARNING_RATE = 3e-3
FINETUNE_ANCHOR = 1e-2
#: Frames per dot the fine-tuning fits on (evenly spaced): its time grows with the frames, neighbouring frames add little,
#: and 8 keep a 13-dot calibration at a few seconds in the browser.
FINETUNE_FRAMES_PER_DOT = 8
#: A check error above this (screen fractions) is a poor calibration: the result screen warns and puts Redo first,
#: and the calibration status does not show it as good. 0.1 is where every synthetic person of the tests stays
#: after a good calibration on any renderer (docs: measurements/accuracy.md). A check error above the model's own is
#: poor whatever its size.
POOR_ERROR = 0.1


#: A column whose variance is at most this is constant (a ReLU unit that never fires): it is scaled by 1, not 0.
CONSTANT_VARIANCE = 1e-12


def maths_settings() -> dict[str, Any]:
    """The constants as the page reads them (config.calibration.maths)."""
    return {
        "constantVariance": CONSTANT_VARIANCE,
        "featureLambdas": list(FEATURE_LAMBDAS),
        "affineLambda": AFFINE_LAMBDA,
        "eyeLambdas": list(EYE_LAMBDAS),
        "mixWeights": list(MIX_WEIGHTS),
        "minTargets": MIN_TARGETS,
        "referenceRounds": REFERENCE_ROUNDS,
        "coarse": COARSE,
        "smoothing": list(SMOOTHING),
        "finetune": {
            "steps": FINETUNE_STEPS,
            "learningRate": FINETUNE_LEARNING_RATE,
            "anchor": FINETUNE_ANCHOR,
            "framesPerDot": FINETUNE_FRAMES_PER_DOT,
        },
    }
