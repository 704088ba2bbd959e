// assets/app/calibration/ridge.js: standardisation, primal and dual ridge, the closed-form leave-one-group-out.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  centeredKernel,
  cholesky,
  fitKernelRidge,
  fitRidge,
  groupByTarget,
  invertSpd,
  kernelRidgeCV,
  kernelScale,
  meanError,
  normalEquations,
  predictRidge,
  predictRow,
  standardize,
  standardizeRow,
} from '../../assets/app/calibration/ridge.js';
import { MATHS, assertClose, identity, multiply, randomMatrix, seededRandom } from './helpers.mjs';

// Rows X times weights B (d x k) plus intercept c (k): exactly linear targets.
function linearTargets(X, B, c) {
  return X.map((row) => c.map((offset, col) => row.reduce((sum, value, j) => sum + value * B[j][col], offset)));
}

// A random symmetric positive definite p x p matrix, row-major: G'G + p I.
function randomSpd(random, p) {
  const G = randomMatrix(random, p, p);
  const out = new Float64Array(p * p);
  for (let r = 0; r < p; r += 1) {
    for (let c = 0; c < p; c += 1) {
      let sum = r === c ? p : 0;
      for (let j = 0; j < p; j += 1) sum += G[j][r] * G[j][c];
      out[r * p + c] = sum;
    }
  }
  return out;
}

describe('standardize', () => {
  test('gives the column means and population standard deviations; a constant column gets scale 1', () => {
    const X = [
      [1, 10, -2],
      [3, 10, 0],
      [5, 10, 2],
    ];
    const { mean, scale } = standardize(X, MATHS.constantVariance);
    assertClose(mean, [3, 10, 0]);
    // Population variance of (1, 3, 5) is (4 + 0 + 4) / 3; of (-2, 0, 2) the same.
    assertClose(scale, [Math.sqrt(8 / 3), 1, Math.sqrt(8 / 3)]);
  });

  test('standardised rows have mean 0 and unit population variance per column', () => {
    const random = seededRandom(1);
    const X = randomMatrix(random, 40, 6).map((row) => row.map((value, j) => 100 * j + (j + 1) * 7 * value));
    const stats = standardize(X, MATHS.constantVariance);
    const Z = X.map((row) => standardizeRow(row, stats));
    for (let j = 0; j < 6; j += 1) {
      const column = Z.map((row) => row[j]);
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length;
      assertClose(mean, 0, 1e-12);
      assertClose(variance, 1, 1e-12);
    }
  });

  test('a constant column standardises to zeros, never NaN', () => {
    const stats = standardize(
      [
        [4, 1],
        [4, 2],
      ],
      MATHS.constantVariance,
    );
    assert.deepEqual(standardizeRow([4, 2], stats), [0, 1]);
  });

  test('without the constant-variance bound it refuses to guess one', () => {
    assert.throws(() => standardize([[1], [2]]), /constantVariance/);
  });
});

describe('fitRidge', () => {
  test('recovers the weights and intercept of exactly linear data as lambda -> 0', () => {
    const random = seededRandom(2);
    const X = randomMatrix(random, 30, 4);
    const B = [
      [1.5, -2],
      [0, 0.25],
      [-3, 1],
      [0.5, 4],
    ];
    const c = [0.2, -0.7];
    const W = fitRidge(X, linearTargets(X, B, c), 1e-10);
    assert.equal(W.length, 5);
    assertClose(W.slice(0, 4), B, 1e-8);
    assertClose(W[4], c, 1e-8);
  });

  test('a huge penalty shrinks every weight to 0 but leaves the intercept unpenalised: the mean target', () => {
    const X = [[0], [1], [2], [3]];
    const Y = [
      [1, 10],
      [3, 10],
      [5, 20],
      [7, 0],
    ];
    const W = fitRidge(X, Y, 1e12);
    assertClose(W[0], [0, 0], 1e-9);
    assertClose(W[1], [4, 10], 1e-9);
  });

  test("solves (A'A + diag(penalties, 0)) W = A'Y with one penalty per column", () => {
    const random = seededRandom(3);
    const X = randomMatrix(random, 12, 3);
    const Y = randomMatrix(random, 12, 2);
    const penalties = [0.5, 2, 0];
    const W = fitRidge(X, Y, penalties);
    // Residual of the normal equations, written out from A = [X | 1].
    const A = X.map((row) => [...row, 1]);
    for (let r = 0; r < 4; r += 1) {
      for (let k = 0; k < 2; k += 1) {
        let left = r < 3 ? penalties[r] * W[r][k] : 0;
        let right = 0;
        for (let i = 0; i < A.length; i += 1) {
          for (let c = 0; c < 4; c += 1) left += A[i][r] * A[i][c] * W[c][k];
          right += A[i][r] * Y[i][k];
        }
        assertClose(left, right, 1e-10);
      }
    }
  });

  test('rejects mismatched rows, negative penalties and a wrong number of them', () => {
    assert.throws(() => fitRidge([], [], 1), RangeError);
    assert.throws(() => fitRidge([[1], [2]], [[1]], 1), RangeError);
    assert.throws(() => fitRidge([[1], [2]], [[1], [2]], -1), RangeError);
    assert.throws(
      () =>
        fitRidge(
          [
            [1, 2],
            [2, 3],
          ],
          [[1], [2]],
          [1],
        ),
      RangeError,
    );
  });

  test('throws on singular equations: lambda 0 with a repeated column', () => {
    const X = [
      [1, 1],
      [2, 2],
      [3, 3],
    ];
    assert.throws(() => fitRidge(X, [[1], [2], [3]], 0), /singular/);
    // Any positive penalty makes it solvable, and splits the weight between the twins.
    const W = fitRidge(X, [[1], [2], [3]], 1e-6);
    assertClose(W[0][0], W[1][0], 1e-9);
  });
});

describe('predictions', () => {
  test('predictRow applies the weights with the intercept last', () => {
    const W = [
      [2, 0],
      [0, 3],
      [1, -1],
    ];
    assert.deepEqual(predictRow(W, [4, 5]), [9, 14]);
    assert.deepEqual(
      predictRidge(W, [
        [0, 0],
        [1, 1],
      ]),
      [
        [1, -1],
        [3, 2],
      ],
    );
  });

  test('predictRow does not modify the intercept row', () => {
    const W = [[1], [5]];
    predictRow(W, [2]);
    assert.deepEqual(W, [[1], [5]]);
  });

  test('meanError is the mean Euclidean distance, optionally scaled per axis, NaN without targets', () => {
    const predicted = [
      [0, 0],
      [1, 1],
    ];
    const targets = [
      [0.3, 0.4],
      [1, 1],
    ];
    assertClose(meanError(predicted, targets), 0.25);
    // 0.3 * 100 and 0.4 * 10: hypot(30, 4) / 2.
    assertClose(meanError(predicted, targets, [100, 10]), Math.hypot(30, 4) / 2);
    assert.ok(Number.isNaN(meanError([], [])));
  });

  test('groupByTarget numbers the targets in order of first appearance', () => {
    const samples = [
      [0.1, 0.1],
      [0.5, 0.5],
      [0.1, 0.1],
      [0.9, 0.2],
      [0.5, 0.5],
    ].map((target) => ({ target }));
    assert.deepEqual(groupByTarget(samples), [[0, 1, 0, 2, 1], 3]);
  });
});

describe('linear algebra', () => {
  test("normalEquations builds A'A and A'Y with the ones column last", () => {
    // A = [[1, 1], [2, 1]]: A'A = [[5, 3], [3, 2]], A'Y = [[13], [8]].
    const { gram, cross, p, k } = normalEquations([[1], [2]], [[3], [5]]);
    assert.equal(p, 2);
    assert.equal(k, 1);
    assert.deepEqual(Array.from(gram), [5, 3, 3, 2]);
    assert.deepEqual(Array.from(cross), [13, 8]);
  });

  test('cholesky of a hand-factored matrix', () => {
    // [[4, 2], [2, 3]] = L L' with L = [[2, 0], [1, sqrt 2]].
    assertClose(cholesky(Float64Array.from([4, 2, 2, 3]), 2), [2, 0, 1, Math.SQRT2], 1e-15);
  });

  test('cholesky factors reproduce a random SPD matrix', () => {
    const p = 6;
    const m = randomSpd(seededRandom(4), p);
    const lower = cholesky(m, p);
    const upper = new Float64Array(p * p);
    for (let r = 0; r < p; r += 1) {
      for (let c = 0; c < p; c += 1) {
        upper[r * p + c] = lower[c * p + r];
        if (c > r) assert.equal(lower[r * p + c], 0);
      }
    }
    assertClose(multiply(lower, upper, p), m, 1e-12);
  });

  test('cholesky rejects a singular matrix', () => {
    assert.throws(() => cholesky(Float64Array.from([1, 1, 1, 1]), 2), /singular/);
  });

  test('invertSpd inverts a hand-computed 2 x 2 and gives the identity with a random SPD matrix', () => {
    // inv([[4, 2], [2, 3]]) = [[3, -2], [-2, 4]] / 8.
    assertClose(invertSpd(Float64Array.from([4, 2, 2, 3]), 2), [3 / 8, -2 / 8, -2 / 8, 4 / 8], 1e-15);
    const p = 7;
    const m = randomSpd(seededRandom(5), p);
    const inverse = invertSpd(m, p);
    assertClose(multiply(m, inverse, p), identity(p), 1e-12);
    assertClose(multiply(inverse, m, p), identity(p), 1e-12);
  });
});

describe('dual (kernel) ridge', () => {
  test("centeredKernel centres the rows: kernel = Xc Xc', every kernel row sums to 0, kernelScale its mean diagonal", () => {
    const X = [
      [1, 2],
      [3, 6],
      [5, 1],
    ];
    const { kernel, mean, centred } = centeredKernel(X);
    assertClose(mean, [3, 3]);
    assertClose(centred[0], [-2, -1]);
    assertClose(centred[1], [0, 3]);
    assertClose(centred[2], [2, -2]);
    assertClose(kernel, [5, -3, -2, -3, 9, -6, -2, -6, 8]);
    for (let r = 0; r < 3; r += 1) assertClose(kernel[r * 3] + kernel[r * 3 + 1] + kernel[r * 3 + 2], 0, 1e-12);
    assertClose(kernelScale(kernel, 3), (5 + 9 + 8) / 3);
  });

  for (const [n, d] of [
    [15, 4],
    [10, 30],
  ]) {
    test(`fitKernelRidge gives the primal fit's weights and predictions (n = ${n}, d = ${d})`, () => {
      const random = seededRandom(6 + d);
      const X = randomMatrix(random, n, d);
      const Y = randomMatrix(random, n, 2);
      const lambda = 0.7;
      const dual = fitKernelRidge(X, Y, lambda);
      const primal = fitRidge(X, Y, lambda);
      assertClose(dual, primal, 1e-9);
      const probe = randomMatrix(random, 5, d);
      assertClose(predictRidge(dual, probe), predictRidge(primal, probe), 1e-9);
    });
  }

  for (const [n, d, size] of [
    [12, 5, 3],
    [10, 25, 2],
    [9, 3, 1],
  ]) {
    test(`kernelRidgeCV equals explicit refits without each group (n = ${n}, d = ${d}, groups of ${size})`, () => {
      const random = seededRandom(100 + n + d);
      const X = randomMatrix(random, n, d);
      const Y = randomMatrix(random, n, 2);
      const groups = Array.from({ length: n }, (_, i) => Math.floor(i / size));
      const count = n / size;
      const lambda = 0.3;
      const { kernel } = centeredKernel(X);
      const closed = kernelRidgeCV(kernel, Y, groups, count, lambda);
      for (let group = 0; group < count; group += 1) {
        const train = groups.flatMap((g, i) => (g === group ? [] : [i]));
        // The refit centres on its own rows; with an unpenalised intercept the fit does not depend on the centre.
        const W = fitRidge(
          train.map((i) => X[i]),
          train.map((i) => Y[i]),
          lambda,
        );
        groups.forEach((g, i) => {
          if (g === group) assertClose(closed[i], predictRow(W, X[i]), 1e-9, `row ${i}`);
        });
      }
    });
  }

  test('leaving a group out changes its predictions: they are not the in-sample fit', () => {
    const random = seededRandom(8);
    const X = randomMatrix(random, 8, 3);
    const Y = randomMatrix(random, 8, 2);
    const groups = [0, 0, 1, 1, 2, 2, 3, 3];
    const { kernel } = centeredKernel(X);
    const held = kernelRidgeCV(kernel, Y, groups, 4, 0.1);
    const inSample = predictRidge(fitRidge(X, Y, 0.1), X);
    const gap = held.reduce((sum, row, i) => sum + Math.hypot(row[0] - inSample[i][0], row[1] - inSample[i][1]), 0);
    assert.ok(gap > 1e-3, `held-out predictions equal the in-sample fit (gap ${gap})`);
  });
});
