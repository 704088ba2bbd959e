// Per-user calibration maths (no DOM): map the CNN's penultimate activations
// and raw output to the point on the screen a person looks at, by ridge
// regression, with the model and its penalty chosen per person by
// leave-one-target-out cross-validation. Points are fractions of the screen.

/** Penalties tried for the features candidate, strongest first (ties go to the simpler fit). */
export const FEATURE_LAMBDAS = Object.freeze([1e3, 1e2, 1e1, 1, 1e-1, 1e-2, 1e-3]);
/** The affine candidate's penalty: only there to keep 2x2 problems solvable when targets are few. */
export const AFFINE_LAMBDA = 1e-3;
/** Fewer targets than this cannot separate an offset and a scale per axis from noise. */
export const MIN_TARGETS = 3;

/**
 * Column means and scales (population standard deviation) of X, an array of
 * rows, plus the standardised rows: {mean, scale, rows}. A constant column
 * (a ReLU unit that never fires) gets scale 1, since dividing by 0 would
 * poison the fit; it then standardises to zeros and the penalty keeps its
 * weight at 0.
 */
export function standardize(X) {
  const n = X.length;
  const d = n > 0 ? X[0].length : 0;
  const mean = new Array(d).fill(0);
  const scale = new Array(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j += 1) mean[j] += row[j] / n;
  for (const row of X) for (let j = 0; j < d; j += 1) scale[j] += (row[j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j += 1) scale[j] = scale[j] > 1e-12 ? Math.sqrt(scale[j]) : 1;
  const stats = { mean, scale };
  return { mean, scale, rows: X.map((row) => standardizeRow(row, stats)) };
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
 * (here [x, y]), lambda >= 0. With A = [X | 1] (a column of ones appended
 * LAST as the intercept) and P = diag(1, ..., 1, 0) (the intercept is not
 * penalised), it solves (A'A + lambda P) W = A'Y by Cholesky and returns W as
 * an array of d + 1 rows of k numbers: rows 0..d-1 weigh the columns of X,
 * row d is the intercept, so a prediction is sum_j X[i][j] W[j] + W[d]
 * (see predictRidge). X is used as given: standardise it first if wanted.
 * In numpy: A = np.hstack([X, np.ones((n, 1))]);
 * W = np.linalg.solve(A.T @ A + lambda * np.diag([1] * d + [0]), A.T @ Y).
 * With lambda = 0 this is ordinary least squares, the same as
 * np.linalg.lstsq(A, Y); it throws an Error if the equations are singular
 * (lambda = 0 with rank-deficient X). `lambda` may also be an array of d
 * penalties, one per column of X (P = diag(lambda..., 0)).
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

function predictRow(W, row) {
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
function normalEquations(X, Y) {
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
function solveRidge({ gram, cross, p, k }, penalties) {
  const m = Float64Array.from(gram);
  for (let r = 0; r < p - 1; r += 1) m[r * p + r] += penalties[r];
  const lower = cholesky(m, p);
  const W = [];
  for (let r = 0; r < p; r += 1) W.push(new Array(k).fill(0));
  const z = new Float64Array(p);
  for (let c = 0; c < k; c += 1) {
    // Forward (L z = b), then backward (L' w = z) substitution.
    for (let r = 0; r < p; r += 1) {
      let sum = cross[r * k + c];
      for (let j = 0; j < r; j += 1) sum -= lower[r * p + j] * z[j];
      z[r] = sum / lower[r * p + r];
    }
    for (let r = p - 1; r >= 0; r -= 1) {
      let sum = z[r];
      for (let j = r + 1; j < p; j += 1) sum -= lower[j * p + r] * W[j][c];
      W[r][c] = sum / lower[r * p + r];
    }
  }
  return W;
}

// Cholesky factor L (row-major, lower triangle) of a symmetric positive
// definite p x p matrix; a pivot that vanishes next to the diagonal's scale
// means the normal equations have no unique solution.
function cholesky(m, p) {
  let largest = 0;
  for (let r = 0; r < p; r += 1) largest = Math.max(largest, Math.abs(m[r * p + r]));
  const tiny = largest * 1e-13;
  const lower = new Float64Array(p * p);
  for (let r = 0; r < p; r += 1) {
    for (let c = 0; c <= r; c += 1) {
      let sum = m[r * p + c];
      for (let j = 0; j < c; j += 1) sum -= lower[r * p + j] * lower[c * p + j];
      if (r === c) {
        if (!(sum > tiny)) throw new Error('fitRidge: the normal equations are singular (use lambda > 0)');
        lower[r * p + r] = Math.sqrt(sum);
      } else {
        lower[r * p + c] = sum / lower[c * p + c];
      }
    }
  }
  return lower;
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

// The regression inputs of one frame for a method: the raw output alone, or
// the penultimate activations followed by the raw output.
function inputRow(method, features, gaze) {
  return method === 'affine' ? [gaze[0], gaze[1]] : [...features, gaze[0], gaze[1]];
}

// Per-column penalties of a method's inputs. The features candidate
// shrinks the activations' weights by lambda but the raw output's only as
// much as the affine candidate does: a large lambda then tends to the affine
// map rather than to a constant, so lambda trades "affine" against "affine
// plus features" (measured on synthetic new people: leave-one-target-out
// picks features more often this way, and the held-out error drops ~7% at
// 9 and 13 points and never rises, against shrinking the raw output too).
function penalties(method, lambda, width) {
  if (method === 'affine') return [lambda, lambda];
  return [...new Array(width - 2).fill(lambda), AFFINE_LAMBDA, AFFINE_LAMBDA];
}

/**
 * Fit one mapping on samples ({features, gaze, target}, see chooseCalibration):
 * standardise the inputs, then fitRidge. Returns a plain, JSON-safe
 * {method, lambda, mean, scale, weights} for applyMapping.
 */
export function fitMapping(method, lambda, samples) {
  const { mean, scale, rows } = standardize(samples.map((s) => inputRow(method, s.features, s.gaze)));
  const weights = fitRidge(rows, samples.map((s) => [s.target[0], s.target[1]]), penalties(method, lambda, mean.length));
  return { method, lambda, mean, scale, weights };
}

/** The calibrated point [x, y] for one frame's penultimate activations and raw gaze. */
export function applyMapping(mapping, features, gaze) {
  const row = inputRow(mapping.method, features, gaze);
  if (row.length !== mapping.mean.length) {
    throw new Error(`the calibration expects ${mapping.mean.length} inputs, the model gives ${row.length}`);
  }
  return predictRow(mapping.weights, standardizeRow(row, mapping));
}

// Samples grouped by their exact target: [group index per sample, group count].
function groupByTarget(samples) {
  const index = new Map();
  const groups = samples.map(({ target }) => {
    const key = `${target[0]},${target[1]}`;
    if (!index.has(key)) index.set(key, index.size);
    return index.get(key);
  });
  return [groups, index.size];
}

// Leave-one-target-out predictions of every sample for each lambda: the
// folds standardise on their own training part, as the final fit does. A
// lambda whose equations are singular in some fold scores Infinity.
function crossValidate(method, lambdas, samples, groups, groupCount) {
  const rows = samples.map((s) => inputRow(method, s.features, s.gaze));
  const targets = samples.map((s) => [s.target[0], s.target[1]]);
  const predictions = lambdas.map(() => new Array(samples.length));
  const failed = new Set();
  for (let fold = 0; fold < groupCount; fold += 1) {
    const train = [];
    const test = [];
    groups.forEach((group, i) => (group === fold ? test : train).push(i));
    const stats = standardize(train.map((i) => rows[i]));
    const equations = normalEquations(stats.rows, train.map((i) => targets[i]));
    const held = test.map((i) => standardizeRow(rows[i], stats));
    lambdas.forEach((lambda, l) => {
      if (failed.has(l)) return;
      let W;
      try {
        W = solveRidge(equations, penalties(method, lambda, rows[0].length));
      } catch {
        failed.add(l);
        return;
      }
      test.forEach((i, t) => {
        predictions[l][i] = predictRow(W, held[t]);
      });
    });
  }
  return lambdas.map((lambda, l) => ({
    method, lambda, cvError: failed.has(l) ? Infinity : meanError(predictions[l], targets), predictions: predictions[l],
  }));
}

/**
 * Choose and fit the calibration for one person.
 *
 * samples: [{features: number[] (the penultimate activations), gaze: [x, y]
 * (the raw model output), target: [x, y]}], points in screen fractions;
 * samples with the same target form one group. Candidates: (a) "affine",
 * ridge on the standardised raw output alone with AFFINE_LAMBDA; (b)
 * "features", ridge on the standardised [features, raw output] for each of
 * FEATURE_LAMBDAS, shrinking the raw output's weights only by AFFINE_LAMBDA
 * (see penalties()). Each is scored by leave-one-target-out cross-validation
 * (each fold leaves out every sample of one target, so near-identical
 * neighbouring frames never score each other), and the lowest mean error
 * wins; then it is fitted on all samples. Throws an Error with fewer than
 * MIN_TARGETS distinct targets.
 *
 * Returns {method, lambda, fitError, cvError, samples, points, mapping,
 * candidates: [{method, lambda, cvError}], cvPredictions}; errors are mean
 * Euclidean distances in screen fractions (fitError on the samples fitted,
 * cvError of the held-out predictions, cvPredictions in sample order).
 */
export function chooseCalibration(samples) {
  const [groups, points] = groupByTarget(samples);
  if (points < MIN_TARGETS) {
    throw new Error(`calibration needs frames with a face at ${MIN_TARGETS} or more distinct targets, got ${points}`);
  }
  // A model without a penultimate layer to read gives no features: the affine map is all there is.
  const hasFeatures = samples.every((s) => s.features?.length > 0);
  const candidates = [
    ...crossValidate('affine', [AFFINE_LAMBDA], samples, groups, points),
    ...(hasFeatures ? crossValidate('features', FEATURE_LAMBDAS, samples, groups, points) : []),
  ];
  // Strictly lower wins: on a tie the earlier, simpler candidate stays.
  const best = candidates.reduce((a, b) => (b.cvError < a.cvError ? b : a));
  const mapping = fitMapping(best.method, best.lambda, samples);
  const targets = samples.map((s) => s.target);
  const fitted = samples.map((s) => applyMapping(mapping, s.features, s.gaze));
  return {
    method: best.method,
    lambda: best.lambda,
    fitError: meanError(fitted, targets),
    cvError: best.cvError,
    samples: samples.length,
    points,
    mapping,
    candidates: candidates.map(({ method, lambda, cvError }) => ({ method, lambda, cvError })),
    cvPredictions: best.predictions,
  };
}

/**
 * Fit a calibration and describe it: {mapping, summary}, where summary is
 * {samples, points, method, lambda, fitError, cvError, rawError (the raw
 * model's error on the same samples), cvErrorPx, screen, created,
 * validation: null}. `screen` {width, height} turns fractions into px.
 */
export function fitCalibration(samples, screen) {
  const choice = chooseCalibration(samples);
  const targets = samples.map((s) => s.target);
  return {
    mapping: choice.mapping,
    summary: {
      samples: choice.samples,
      points: choice.points,
      method: choice.method,
      lambda: choice.lambda,
      fitError: choice.fitError,
      cvError: choice.cvError,
      rawError: meanError(samples.map((s) => s.gaze), targets),
      cvErrorPx: meanError(choice.cvPredictions, targets, [screen.width, screen.height]),
      screen: { width: screen.width, height: screen.height },
      created: new Date().toISOString(),
      validation: null,
    },
  };
}

/**
 * Score a mapping on samples it was not fitted on, against the raw model:
 * {points, samples, error, errorPx, rawError, rawErrorPx} (NaN errors when
 * there are no samples).
 */
export function validateMapping(mapping, samples, screen) {
  const targets = samples.map((s) => s.target);
  const size = [screen.width, screen.height];
  const calibrated = samples.map((s) => applyMapping(mapping, s.features, s.gaze));
  const raw = samples.map((s) => s.gaze);
  return {
    points: groupByTarget(samples)[1],
    samples: samples.length,
    error: meanError(calibrated, targets),
    errorPx: meanError(calibrated, targets, size),
    rawError: meanError(raw, targets),
    rawErrorPx: meanError(raw, targets, size),
  };
}
