// Ridge regression with an unpenalised intercept, in the primal (few inputs)
// and the dual (many inputs). Twin of gazesite/calibration/ridge.py; no DOM.
// Everything is float64; rows are arrays (or typed arrays) of numbers.

/**
 * Column means and scales (population standard deviation) of X, an array of
 * rows: {mean, scale}. A constant column gets scale 1, since dividing by 0
 * would poison the fit; it then standardises to zeros and the penalty keeps
 * its weight at 0. A column is constant when its variance is at most
 * `constantVariance` (config.calibration.maths.constantVariance).
 */
export function standardize(X, constantVariance) {
  if (!Number.isFinite(constantVariance)) throw new TypeError('standardize: constantVariance must be a number');
  const n = X.length;
  const d = n > 0 ? X[0].length : 0;
  const mean = new Array(d).fill(0);
  const scale = new Array(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j += 1) mean[j] += row[j];
  for (let j = 0; j < d; j += 1) mean[j] /= n;
  for (const row of X) for (let j = 0; j < d; j += 1) scale[j] += (row[j] - mean[j]) ** 2;
  for (let j = 0; j < d; j += 1) scale[j] = scale[j] / n > constantVariance ? Math.sqrt(scale[j] / n) : 1;
  return { mean, scale };
}

/** One row standardised with given {mean, scale}. */
export function standardizeRow(row, { mean, scale }) {
  const out = new Array(mean.length);
  for (let j = 0; j < mean.length; j += 1) out[j] = (row[j] - mean[j]) / scale[j];
  return out;
}

/**
 * Ridge regression with an unpenalised intercept, by the normal equations.
 *
 * X is an array of n rows of d numbers, Y an array of n rows of k numbers
 * (here [x, y]). With A = [X | 1] (a column of ones appended LAST as the
 * intercept) and P = diag(penalties, 0), it solves (A'A + P) W = A'Y by
 * Cholesky and returns W as d + 1 rows of k numbers: rows 0..d-1 weigh the
 * columns of X, row d is the intercept (see predictRow). `lambda` is one
 * penalty >= 0 for every column or an array of d of them. In numpy:
 * np.linalg.solve(A.T @ A + np.diag([*penalties, 0]), A.T @ Y). Throws an
 * Error if the equations are singular (lambda = 0 with rank-deficient X).
 */
export function fitRidge(X, Y, lambda) {
  if (X.length === 0 || X.length !== Y.length) throw new RangeError('fitRidge: X and Y need the same, non-zero number of rows');
  const d = X[0].length;
  const penalties = Array.isArray(lambda) ? lambda : new Array(d).fill(lambda);
  if (penalties.length !== d || !penalties.every((value) => value >= 0)) {
    throw new RangeError(`fitRidge: lambda must be a number >= 0 or ${d} of them, got ${lambda}`);
  }
  return solveRidge(normalEquations(X, Y), penalties);
}

/** Predictions of a fitRidge W for an array of rows: an array of rows of k numbers. */
export function predictRidge(W, X) {
  return X.map((row) => predictRow(W, row));
}

/** The prediction of W (intercept last) for one row. */
export function predictRow(W, row) {
  const d = W.length - 1;
  const out = W[d].slice();
  for (let j = 0; j < d; j += 1) {
    const value = row[j];
    if (value === 0) continue;
    for (let c = 0; c < out.length; c += 1) out[c] += value * W[j][c];
  }
  return out;
}

// A'A and A'Y with the intercept column appended; computed once per fold and
// reused for every lambda.
export function normalEquations(X, Y) {
  const d = X[0].length;
  const k = Y[0].length;
  const p = d + 1;
  const gram = new Float64Array(p * p);
  const cross = new Float64Array(p * k);
  const a = new Float64Array(p);
  for (let i = 0; i < X.length; i += 1) {
    for (let j = 0; j < d; j += 1) a[j] = X[i][j];
    a[d] = 1;
    for (let r = 0; r < p; r += 1) {
      const ar = a[r];
      if (ar === 0) continue;
      for (let c = 0; c <= r; c += 1) gram[r * p + c] += ar * a[c];
      for (let c = 0; c < k; c += 1) cross[r * k + c] += ar * Y[i][c];
    }
  }
  for (let r = 0; r < p; r += 1) for (let c = r + 1; c < p; c += 1) gram[r * p + c] = gram[c * p + r];
  return { gram, cross, p, k };
}

// Solve with one penalty per column of X (the intercept, last, gets none).
export function solveRidge({ gram, cross, p, k }, penalties) {
  const m = Float64Array.from(gram);
  for (let r = 0; r < p - 1; r += 1) m[r * p + r] += penalties[r];
  const lower = cholesky(m, p);
  const solution = choleskySolve(lower, p, cross, k);
  const W = [];
  for (let r = 0; r < p; r += 1) W.push(Array.from(solution.subarray(r * k, r * k + k)));
  return W;
}

/**
 * Cholesky factor L (row-major, lower triangle) of a symmetric positive
 * definite p x p matrix; a pivot that vanishes next to the diagonal's scale
 * means the equations have no unique solution.
 */
export function cholesky(m, p) {
  let largest = 0;
  for (let r = 0; r < p; r += 1) largest = Math.max(largest, Math.abs(m[r * p + r]));
  const tiny = largest * 1e-13;
  const lower = new Float64Array(p * p);
  for (let r = 0; r < p; r += 1) {
    for (let c = 0; c <= r; c += 1) {
      let sum = m[r * p + c];
      for (let j = 0; j < c; j += 1) sum -= lower[r * p + j] * lower[c * p + j];
      if (r === c) {
        if (!(sum > tiny)) throw new Error('ridge: the normal equations are singular (use lambda > 0)');
        lower[r * p + r] = Math.sqrt(sum);
      } else {
        lower[r * p + c] = sum / lower[c * p + c];
      }
    }
  }
  return lower;
}

// Solve L L' X = B for B of p rows and k columns (row-major): forward, then backward substitution.
function choleskySolve(lower, p, B, k) {
  const X = new Float64Array(p * k);
  const z = new Float64Array(p);
  for (let c = 0; c < k; c += 1) {
    for (let r = 0; r < p; r += 1) {
      let sum = B[r * k + c];
      for (let j = 0; j < r; j += 1) sum -= lower[r * p + j] * z[j];
      z[r] = sum / lower[r * p + r];
    }
    for (let r = p - 1; r >= 0; r -= 1) {
      let sum = z[r];
      for (let j = r + 1; j < p; j += 1) sum -= lower[j * p + r] * X[j * k + c];
      X[r * k + c] = sum / lower[r * p + r];
    }
  }
  return X;
}

/** The inverse of a symmetric positive definite p x p matrix (row-major), through its Cholesky factor. */
export function invertSpd(m, p) {
  const lower = cholesky(m, p);
  // L^-1 by forward substitution, column by column, then (L^-1)' L^-1.
  const inverseLower = new Float64Array(p * p);
  for (let c = 0; c < p; c += 1) {
    inverseLower[c * p + c] = 1 / lower[c * p + c];
    for (let r = c + 1; r < p; r += 1) {
      let sum = 0;
      for (let j = c; j < r; j += 1) sum -= lower[r * p + j] * inverseLower[j * p + c];
      inverseLower[r * p + c] = sum / lower[r * p + r];
    }
  }
  const inverse = new Float64Array(p * p);
  for (let r = 0; r < p; r += 1) {
    for (let c = 0; c <= r; c += 1) {
      let sum = 0;
      for (let j = r; j < p; j += 1) sum += inverseLower[j * p + r] * inverseLower[j * p + c];
      inverse[r * p + c] = sum;
      inverse[c * p + r] = sum;
    }
  }
  return inverse;
}

/**
 * Mean Euclidean distance between predicted and target points. `scale`
 * multiplies each axis first: [1, 1] gives screen fractions, [width, height]
 * gives screen px.
 */
export function meanError(predicted, targets, scale = [1, 1]) {
  if (targets.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < targets.length; i += 1) {
    sum += Math.hypot((predicted[i][0] - targets[i][0]) * scale[0], (predicted[i][1] - targets[i][1]) * scale[1]);
  }
  return sum / targets.length;
}

/** Column means of rows, and the linear kernel (n x n, row-major Float64Array) of the centred rows. */
export function centeredKernel(X) {
  const n = X.length;
  const d = X[0].length;
  const mean = new Float64Array(d);
  for (const row of X) for (let j = 0; j < d; j += 1) mean[j] += row[j];
  for (let j = 0; j < d; j += 1) mean[j] /= n;
  const centred = X.map((row) => {
    const out = new Float64Array(d);
    for (let j = 0; j < d; j += 1) out[j] = row[j] - mean[j];
    return out;
  });
  const kernel = new Float64Array(n * n);
  for (let r = 0; r < n; r += 1) {
    const a = centred[r];
    for (let c = 0; c <= r; c += 1) {
      const b = centred[c];
      let sum = 0;
      for (let j = 0; j < d; j += 1) sum += a[j] * b[j];
      kernel[r * n + c] = sum;
      kernel[c * n + r] = sum;
    }
  }
  return { kernel, mean, centred };
}

/** Mean of the kernel's diagonal: the mean squared norm of the centred rows, the unit of the dual penalties. */
export function kernelScale(kernel, n) {
  let trace = 0;
  for (let i = 0; i < n; i += 1) trace += kernel[i * n + i];
  return trace / n;
}

/**
 * Leave-one-group-out predictions of dual ridge with an unpenalised
 * intercept, in closed form (twin of kernel_ridge_cv). With
 * A = (Kc + lambda I)^-1 the fit leaves residuals e = lambda A (Y - mean Y),
 * and the residuals of group g, fitted without it, solve
 * (lambda A_gg - 1/n) e_g' = e_g: the exact refit, without refitting.
 * `groups` numbers each row's group 0..count-1.
 */
export function kernelRidgeCV(kernel, Y, groups, count, lambda) {
  const n = Y.length;
  const k = Y[0].length;
  const m = Float64Array.from(kernel);
  for (let i = 0; i < n; i += 1) m[i * n + i] += lambda;
  const inverse = invertSpd(m, n);
  const yMean = new Float64Array(k);
  for (const row of Y) for (let c = 0; c < k; c += 1) yMean[c] += row[c] / n;
  const residuals = new Float64Array(n * k);
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < k; c += 1) {
      let sum = 0;
      for (let j = 0; j < n; j += 1) sum += inverse[r * n + j] * (Y[j][c] - yMean[c]);
      residuals[r * k + c] = lambda * sum;
    }
  }
  const predictions = new Array(n);
  for (let group = 0; group < count; group += 1) {
    const rows = [];
    groups.forEach((g, i) => g === group && rows.push(i));
    const size = rows.length;
    const block = new Float64Array(size * size);
    const right = new Float64Array(size * k);
    rows.forEach((i, a) => {
      rows.forEach((j, b) => {
        block[a * size + b] = lambda * inverse[i * n + j] - 1 / n;
      });
      for (let c = 0; c < k; c += 1) right[a * k + c] = residuals[i * k + c];
    });
    const held = solveGeneral(block, size, right, k);
    rows.forEach((i, a) => {
      predictions[i] = Array.from({ length: k }, (_, c) => Y[i][c] - held[a * k + c]);
    });
  }
  return predictions;
}

/**
 * Dual ridge on rows X with penalty lambda, returned in the primal form of
 * fitRidge (d + 1 rows of k numbers, intercept last), so applying it costs
 * one dot product per output whatever the number of training rows.
 */
export function fitKernelRidge(X, Y, lambda) {
  const n = X.length;
  const k = Y[0].length;
  const { kernel, mean, centred } = centeredKernel(X);
  const m = Float64Array.from(kernel);
  for (let i = 0; i < n; i += 1) m[i * n + i] += lambda;
  const yMean = new Float64Array(k);
  for (const row of Y) for (let c = 0; c < k; c += 1) yMean[c] += row[c] / n;
  const right = new Float64Array(n * k);
  for (let i = 0; i < n; i += 1) for (let c = 0; c < k; c += 1) right[i * k + c] = Y[i][c] - yMean[c];
  const alpha = choleskySolve(cholesky(m, n), n, right, k);
  const d = mean.length;
  const W = [];
  for (let j = 0; j < d; j += 1) {
    const weights = new Array(k).fill(0);
    for (let i = 0; i < n; i += 1) for (let c = 0; c < k; c += 1) weights[c] += centred[i][j] * alpha[i * k + c];
    W.push(weights);
  }
  const intercept = Array.from(yMean);
  for (let j = 0; j < d; j += 1) for (let c = 0; c < k; c += 1) intercept[c] -= mean[j] * W[j][c];
  W.push(intercept);
  return W;
}

// Solve M X = B for a small general square matrix (Gaussian elimination with partial pivoting).
function solveGeneral(matrix, size, B, k) {
  const a = Float64Array.from(matrix);
  const x = Float64Array.from(B);
  for (let col = 0; col < size; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < size; r += 1) if (Math.abs(a[r * size + col]) > Math.abs(a[pivot * size + col])) pivot = r;
    if (a[pivot * size + col] === 0) throw new Error('ridge: a leave-one-out system is singular');
    if (pivot !== col) {
      for (let c = 0; c < size; c += 1) [a[col * size + c], a[pivot * size + c]] = [a[pivot * size + c], a[col * size + c]];
      for (let c = 0; c < k; c += 1) [x[col * k + c], x[pivot * k + c]] = [x[pivot * k + c], x[col * k + c]];
    }
    for (let r = col + 1; r < size; r += 1) {
      const factor = a[r * size + col] / a[col * size + col];
      if (factor === 0) continue;
      for (let c = col; c < size; c += 1) a[r * size + c] -= factor * a[col * size + c];
      for (let c = 0; c < k; c += 1) x[r * k + c] -= factor * x[col * k + c];
    }
  }
  for (let r = size - 1; r >= 0; r -= 1) {
    for (let c = 0; c < k; c += 1) {
      let sum = x[r * k + c];
      for (let j = r + 1; j < size; j += 1) sum -= a[r * size + j] * x[j * k + c];
      x[r * k + c] = sum / a[r * size + r];
    }
  }
  return x;
}

/** Samples grouped by their exact target (one calibration dot), numbered in order of first appearance: [groups, count]. */
export function groupByTarget(samples) {
  const index = new Map();
  const groups = samples.map(({ target }) => {
    const key = `${target[0]},${target[1]}`;
    if (!index.has(key)) index.set(key, index.size);
    return index.get(key);
  });
  return [groups, index.size];
}
