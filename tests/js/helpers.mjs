// Shared fixtures of the page-module tests: the pipeline and calibration
// constants as the build hands them to the page, a seeded random source, and
// numeric comparisons. Not a test file itself (node --test skips the name).

import assert from 'node:assert/strict';

/** gazesite.track.pipeline.pipeline_constants(PIPELINE), field for field (tests/unit/site/test_app_modules.py checks). */
export const PIPELINE = Object.freeze({
  version: 1,
  cascade_file: 'haarcascade_frontalface_default.xml',
  scale_factor: 1.1,
  min_neighbors: 3,
  detect_flags: 0,
  min_face_size: 70,
  crop_size: 50,
  channels: 1,
  clahe_clip_limit: 40.0,
  clahe_tile_grid: 8,
  pixel_scale: 255.0,
  camera_width: 320,
  camera_height: 240,
  track_full_search_every: 10,
  track_margin: 0.5,
  track_min_scale: 0.8,
  track_max_scale: 1.25,
  eyes_left: 0.05,
  eyes_right: 0.95,
  eyes_top: 0.22,
  eyes_bottom: 0.55,
  eyes_width: 96,
  eyes_height: 32,
  eyes_margin_x: 12,
  eyes_margin_y: 8,
});

/** gazesite.calibration.settings.maths_settings() (config.calibration.maths; checked the same way). */
export const MATHS = Object.freeze({
  constantVariance: 1e-12,
  featureLambdas: [1e3, 1e2, 1e1, 1.0, 1e-1, 1e-2, 1e-3],
  affineLambda: 1e-3,
  eyeLambdas: [1.0, 1e-1, 1e-2, 1e-3, 1e-4],
  mixWeights: [0.1, 1.0],
  minTargets: 3,
  referenceRounds: 3,
  coarse: 2,
  smoothing: [1.0, 2.0, 1.0],
  finetune: { steps: 100, learningRate: 3e-3, anchor: 1e-2, framesPerDot: 8 },
});

/** A deterministic source of numbers in [0, 1) (mulberry32). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rows x cols numbers drawn uniformly from [-1, 1). */
export function randomMatrix(random, rows, cols) {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => 2 * random() - 1));
}

/** Assert |actual - expected| <= tolerance, elementwise through nested arrays and typed arrays. */
export function assertClose(actual, expected, tolerance = 1e-9, path = 'value') {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${path}: expected a number, got ${actual}`);
    assert.ok(Math.abs(actual - expected) <= tolerance, `${path}: ${actual} is not within ${tolerance} of ${expected}`);
    return;
  }
  const a = Array.from(actual);
  const e = Array.from(expected);
  assert.equal(a.length, e.length, `${path}: length ${a.length} != ${e.length}`);
  e.forEach((value, i) => assertClose(a[i], value, tolerance, `${path}[${i}]`));
}

/** The p x p row-major product of two p x p row-major matrices. */
export function multiply(a, b, p) {
  const out = new Float64Array(p * p);
  for (let r = 0; r < p; r += 1) {
    for (let c = 0; c < p; c += 1) {
      let sum = 0;
      for (let j = 0; j < p; j += 1) sum += a[r * p + j] * b[j * p + c];
      out[r * p + c] = sum;
    }
  }
  return out;
}

/** The p x p identity, row-major. */
export function identity(p) {
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i += 1) out[i * p + i] = 1;
  return out;
}
