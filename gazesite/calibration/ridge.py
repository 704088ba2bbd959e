"""Ridge regression with an unpenalised intercept, in the primal (few inputs) and the dual (many inputs).

Twin of ``assets/app/calibration/ridge.js``. Everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gazesite.calibration.settings import CONSTANT_VARIANCE


@dataclass(frozen=True)
class Standardizer:
    """Column means and scales (population standard deviation; 1 for a constant column)."""

    mean: np.ndarray
    scale: np.ndarray

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Rows standardised with these statistics."""
        return (np.asarray(X, np.float64) - self.mean) / self.scale


def standardize(X: np.ndarray) -> Standardizer:
    """Fit column statistics on the rows of X."""
    X = np.asarray(X, np.float64)
    mean = X.mean(axis=0)
    variance = ((X - mean) ** 2).mean(axis=0)
    scale = np.where(variance > CONSTANT_VARIANCE, np.sqrt(variance), 1.0)
    return Standardizer(mean, scale)


def fit_ridge(X: np.ndarray, Y: np.ndarray, penalties: np.ndarray | float) -> np.ndarray:
    """Solve (A'A + P) W = A'Y with A = [X | 1] and P = diag(penalties, 0); W is (d + 1, k), intercept last."""
    X = np.asarray(X, np.float64)
    A = np.hstack([X, np.ones((len(X), 1))])
    P = np.diag(np.append(np.broadcast_to(np.asarray(penalties, np.float64), (X.shape[1],)), 0.0))
    gram = A.T @ A + P
    lower = np.linalg.cholesky(gram)  # raises LinAlgError when singular, as the JS throws
    return np.linalg.solve(lower.T, np.linalg.solve(lower, A.T @ np.asarray(Y, np.float64)))


def predict(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Predictions of a fit_ridge W for rows X."""
    return np.asarray(X, np.float64) @ W[:-1] + W[-1]


def mean_error(predicted: np.ndarray, targets: np.ndarray, scale: tuple[float, float] = (1.0, 1.0)) -> float:
    """Mean Euclidean distance between points; ``scale`` multiplies each axis first (screen px)."""
    difference = (np.asarray(predicted, np.float64) - np.asarray(targets, np.float64)) * np.asarray(scale, np.float64)
    return float(np.hypot(difference[:, 0], difference[:, 1]).mean()) if len(difference) else float("nan")


def centered_kernel(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The linear kernel of the column-centred rows, and the column means."""
    X = np.asarray(X, np.float64)
    mean = X.mean(axis=0)
    centered = X - mean
    return centered @ centered.T, mean


def kernel_ridge_cv(kernel: np.ndarray, Y: np.ndarray, groups: np.ndarray, lam: float) -> np.ndarray:
    """Leave-one-group-out predictions of dual ridge with an unpenalised intercept, in closed form.

    With A = (Kc + lam I)^-1 the fit leaves residuals e = lam * A (Y - mean Y),
    and the residuals of group g, fitted without it, are solve(lam * A_gg - 1/n, e_g):
    the exact refit, without refitting.
    """
    n = len(Y)
    Y = np.asarray(Y, np.float64)
    inverse = np.linalg.inv(kernel + lam * np.eye(n))
    residuals = lam * inverse @ (Y - Y.mean(axis=0))
    out = np.empty_like(Y)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        block = lam * inverse[np.ix_(rows, rows)] - 1.0 / n
        out[rows] = Y[rows] - np.linalg.solve(block, residuals[rows])
    return out


def fit_kernel_ridge(X: np.ndarray, Y: np.ndarray, lam: float) -> np.ndarray:
    """Dual ridge on rows X, returned in the primal form of fit_ridge: W is (d + 1, k), intercept last."""
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    kernel, mean = centered_kernel(X)
    alpha = np.linalg.solve(kernel + lam * np.eye(len(X)), Y - Y.mean(axis=0))
    weights = (X - mean).T @ alpha
    return np.vstack([weights, Y.mean(axis=0) - mean @ weights])
