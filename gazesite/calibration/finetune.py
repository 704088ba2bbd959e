"""The fine-tuning candidate in numpy: the page's TensorFlow.js refit of the model's last two Dense layers.

Twin of ``assets/app/calibration/finetune.js``: the same thinning of frames,
folds, loss (mean squared error plus a pull towards the trained weights) and
Adam (TensorFlow.js defaults: beta1 0.9, beta2 0.999, epsilon 1e-7), in
float32. The page runs it through TensorFlow.js kernels, so the two agree to
float32 rounding (about 1e-5 of the screen), not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gazesite.calibration.settings import FINETUNE_ANCHOR, FINETUNE_FRAMES_PER_DOT, FINETUNE_LEARNING_RATE, FINETUNE_STEPS

#: Each activation, applied to the pre-activation values.
_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
}
#: Each activation's derivative, from the pre-activation values x and the activation's output y.
_SLOPES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "linear": lambda x, y: np.ones_like(x),
    "relu": lambda x, y: (x > 0).astype(x.dtype),
    "tanh": lambda x, y: 1 - y * y,
    "sigmoid": lambda x, y: y * (1 - y),
}
#: TensorFlow.js's Adam defaults (its epsilon is the float32 backend's).
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-7


@dataclass(frozen=True)
class Head:
    """The last two Dense layers: kernels (rows x cols) and biases, and the first one's activation."""

    activation: str
    kernels: tuple[np.ndarray, np.ndarray]
    biases: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, keras_model: Any) -> Head | None:
        """The head of a Keras model, or None when its last two layers are not Dense with a supported activation and a linear output."""
        penultimate, last = keras_model.layers[-2:]
        if type(penultimate).__name__ != "Dense" or type(last).__name__ != "Dense":
            return None
        activation = penultimate.activation.__name__
        if activation not in _ACTIVATIONS or last.activation.__name__ != "linear":
            return None
        (k1, b1), (k2, b2) = penultimate.get_weights(), last.get_weights()
        return cls(activation, (k1.astype(np.float32), k2.astype(np.float32)), (b1.astype(np.float32), b2.astype(np.float32)))

    def apply(self, trunk: np.ndarray) -> np.ndarray:
        """Points (N, 2) for rows of trunk activations (the penultimate layer's input)."""
        hidden = _ACTIVATIONS[self.activation](np.asarray(trunk, np.float32) @ self.kernels[0] + self.biases[0])
        return hidden @ self.kernels[1] + self.biases[1]


def train(head: Head, trunk: np.ndarray, targets: np.ndarray, steps: int = FINETUNE_STEPS) -> Head:
    """Full-batch Adam on mean squared error plus anchor/2 * |kernel - trained kernel|^2, as the page runs it."""
    x = np.asarray(trunk, np.float32)
    y = np.asarray(targets, np.float32)
    start = [head.kernels[0], head.biases[0], head.kernels[1], head.biases[1]]
    values = [v.copy() for v in start]
    first = [np.zeros_like(v) for v in values]
    second = [np.zeros_like(v) for v in values]
    act, slope = _ACTIVATIONS[head.activation], _SLOPES[head.activation]
    lr, anchor = np.float32(FINETUNE_LEARNING_RATE), np.float32(FINETUNE_ANCHOR)
    for step in range(1, steps + 1):
        pre = x @ values[0] + values[1]
        hidden = act(pre)
        out = hidden @ values[2] + values[3]
        d_out = np.float32(2) * (out - y) / np.float32(y.size)  # tf.mean over every element
        d_hidden = (d_out @ values[2].T) * slope(pre, hidden)
        grads = [
            x.T @ d_hidden + anchor * (values[0] - start[0]),
            d_hidden.sum(axis=0),
            hidden.T @ d_out + anchor * (values[2] - start[2]),
            d_out.sum(axis=0),
        ]
        for i, grad in enumerate(grads):
            first[i] = np.float32(BETA1) * first[i] + np.float32(1 - BETA1) * grad
            second[i] = np.float32(BETA2) * second[i] + np.float32(1 - BETA2) * grad * grad
            corrected_first = first[i] / np.float32(1 - BETA1**step)
            corrected_second = second[i] / np.float32(1 - BETA2**step)
            values[i] = values[i] - lr * corrected_first / (np.sqrt(corrected_second) + np.float32(EPSILON))
    return Head(head.activation, (values[0], values[2]), (values[1], values[3]))


def thinned(groups: np.ndarray, count: int, per_dot: int = FINETUNE_FRAMES_PER_DOT) -> list[list[int]]:
    """At most ``per_dot`` evenly spaced sample indices of each group (rounding half away from zero, as the page does)."""
    out = []
    for group in range(count):
        indices = np.flatnonzero(groups == group).tolist()
        if len(indices) <= per_dot:
            out.append(indices)
            continue
        picks = sorted({int(np.floor(k * (len(indices) - 1) / (per_dot - 1) + 0.5)) for k in range(per_dot)})
        out.append([indices[k] for k in picks])
    return out


def cross_validate(head: Head, trunk: np.ndarray, targets: np.ndarray, groups: np.ndarray, count: int) -> tuple[np.ndarray, Head]:
    """Leave-one-dot-out predictions of fine-tuning (on at most FINETUNE_FRAMES_PER_DOT frames per dot), and the fit on every dot."""
    kept = thinned(groups, count)
    predictions = np.empty((len(targets), 2), np.float64)
    for fold in range(count):
        rows = [i for group, indices in enumerate(kept) if group != fold for i in indices]
        fitted = train(head, trunk[rows], targets[rows])
        predictions[groups == fold] = fitted.apply(trunk[groups == fold])
    return predictions, train(head, trunk[[i for indices in kept for i in indices]], targets[[i for indices in kept for i in indices]])
