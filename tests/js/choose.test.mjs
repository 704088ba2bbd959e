// assets/app/calibration/choose.js, the parts that need neither a DOM nor TensorFlow.js:
// the candidate list, the affine mapping, and the checks on a stored mapping.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  METHODS,
  applyMapping,
  candidateList,
  chooseCalibration,
  fitMapping,
  mappingProblem,
} from '../../assets/app/calibration/choose.js';
import { encodeHead, headProblem } from '../../assets/app/calibration/finetune.js';
import { lookup } from '../../assets/app/own.js';
import { eyeFeatureCount, layoutOf } from '../../assets/app/calibration/eyes.js';
import { MATHS, PIPELINE, assertClose } from './helpers.mjs';

const LAYOUT = layoutOf(PIPELINE);
const CONTEXT = { settings: MATHS, layout: LAYOUT };
const WIDTHS = { features: 4, trunk: 8, eyes: eyeFeatureCount(LAYOUT), eyeReference: LAYOUT.width * LAYOUT.height };

// A valid stored mapping for each block kind.
const AFFINE = {
  method: 'affine',
  lambda: 1e-3,
  weight: null,
  blocks: [{ input: 'gaze', mean: [0.5, 0.5], scale: [0.2, 0.3], weight: 1 }],
  weights: [
    [0.2, 0],
    [0, 0.3],
    [0.5, 0.5],
  ],
};
const FEATURES = {
  method: 'features',
  lambda: 1,
  weight: null,
  blocks: [{ input: 'model', mean: [0, 0, 0, 0, 0.5, 0.5], scale: [1, 1, 1, 1, 0.2, 0.2], weight: 1 }],
  weights: Array.from({ length: 7 }, () => [0, 0]),
};
const EYES = {
  method: 'eyes',
  lambda: 0.01,
  weight: null,
  blocks: [{ input: 'eyes', reference: new Array(WIDTHS.eyeReference).fill(128), weight: 1 }],
  weights: Array.from({ length: WIDTHS.eyes + 1 }, () => [0, 0]),
};

describe('candidateList', () => {
  test('with CNN features: affine, features, eyes, then eyes+features at each mix weight', () => {
    const list = candidateList(true, MATHS);
    assert.deepEqual(
      list.map((c) => [c.method, c.weight]),
      [
        ['affine', null],
        ['features', null],
        ['eyes', null],
        ['eyes+features', 0.1],
        ['eyes+features', 1.0],
      ],
    );
    assert.deepEqual(list[0].lambdas, [MATHS.affineLambda]);
    assert.deepEqual(list[1].lambdas, MATHS.featureLambdas);
    for (const candidate of list.slice(2)) assert.deepEqual(candidate.lambdas, MATHS.eyeLambdas);
  });

  test('without CNN features only the affine and eye candidates remain, and every method is a known one', () => {
    assert.deepEqual(
      candidateList(false, MATHS).map((c) => c.method),
      ['affine', 'eyes'],
    );
    for (const candidate of candidateList(true, MATHS)) assert.ok(METHODS.includes(candidate.method));
  });
});

describe('affine mapping', () => {
  // The raw output is an exact affine image of the target: target = A gaze + b.
  const samples = [
    [0.1, 0.1],
    [0.5, 0.1],
    [0.9, 0.1],
    [0.1, 0.5],
    [0.5, 0.5],
    [0.9, 0.9],
  ].map((target) => ({ target, gaze: [(target[0] - 0.1) / 0.8 + 0.05 * target[1], target[1] / 2 + 0.2] }));

  test('fitMapping recovers an exact affine relation and applyMapping reproduces the targets', () => {
    const mapping = fitMapping('affine', 1e-12, null, samples, CONTEXT);
    for (const sample of samples) assertClose(applyMapping(mapping, sample, CONTEXT), sample.target, 1e-8);
  });

  test('a fitted mapping survives a round trip through JSON and passes mappingProblem', () => {
    const stored = JSON.parse(JSON.stringify(fitMapping('affine', MATHS.affineLambda, null, samples, CONTEXT)));
    assert.equal(mappingProblem(stored, WIDTHS), null);
  });

  test('chooseCalibration refuses fewer than minTargets distinct targets', () => {
    const two = samples.slice(0, 2).flatMap((s) => [s, s]);
    assert.throws(() => chooseCalibration(two, CONTEXT), /3 or more distinct targets, got 2/);
  });
});

describe('mappingProblem', () => {
  test('accepts valid affine, features and eyes mappings', () => {
    for (const mapping of [AFFINE, FEATURES, EYES]) assert.equal(mappingProblem(mapping, WIDTHS), null, mapping.method);
  });

  test('rejects what is not a mapping, or an unknown method or input', () => {
    assert.equal(mappingProblem(null, WIDTHS), 'not an object');
    assert.equal(mappingProblem('affine', WIDTHS), 'not an object');
    assert.match(mappingProblem({ ...AFFINE, method: 'magic' }, WIDTHS), /unknown method "magic"/);
    assert.match(mappingProblem({ ...AFFINE, blocks: [] }, WIDTHS), /no input blocks/);
    assert.match(mappingProblem({ ...AFFINE, blocks: [{ ...AFFINE.blocks[0], input: 'pupil' }] }, WIDTHS), /unknown input "pupil"/);
  });

  test('rejects a zero or negative scale, which would turn every point into NaN', () => {
    for (const bad of [0, -1]) {
      const mapping = { ...AFFINE, blocks: [{ ...AFFINE.blocks[0], scale: [0.2, bad] }] };
      assert.match(mappingProblem(mapping, WIDTHS), /scale <= 0/);
    }
  });

  test('rejects NaN or infinite weights, means and block weights', () => {
    const weights = AFFINE.weights.map((row) => [...row]);
    weights[1][0] = NaN;
    assert.match(mappingProblem({ ...AFFINE, weights }, WIDTHS), /finite weight rows/);
    weights[1][0] = Infinity;
    assert.match(mappingProblem({ ...AFFINE, weights }, WIDTHS), /finite weight rows/);
    assert.match(mappingProblem({ ...AFFINE, blocks: [{ ...AFFINE.blocks[0], mean: [NaN, 0.5] }] }, WIDTHS), /2 means and scales/);
    assert.match(mappingProblem({ ...AFFINE, blocks: [{ ...AFFINE.blocks[0], weight: NaN }] }, WIDTHS), /weight NaN/);
    assert.match(mappingProblem({ ...AFFINE, blocks: [{ ...AFFINE.blocks[0], weight: -1 }] }, WIDTHS), /weight -1/);
  });

  test('rejects widths that do not match this model and pipeline', () => {
    // Weight rows: inputs + intercept.
    assert.match(mappingProblem({ ...AFFINE, weights: AFFINE.weights.slice(1) }, WIDTHS), /expected 3 finite weight rows of 2/);
    assert.match(mappingProblem({ ...AFFINE, weights: AFFINE.weights.map((row) => [...row, 0]) }, WIDTHS), /expected 3/);
    // A features mapping fitted on a model with another penultimate layer.
    assert.match(mappingProblem(FEATURES, { ...WIDTHS, features: 5 }), /needs 7 means and scales/);
    // An eye reference of another band size, or with values that are no grey levels.
    assert.match(mappingProblem(EYES, { ...WIDTHS, eyeReference: 100 }), /reference of 100 grey levels/);
    const notGrey = { ...EYES, blocks: [{ ...EYES.blocks[0], reference: [...EYES.blocks[0].reference.slice(1), 256] }] };
    assert.match(mappingProblem(notGrey, WIDTHS), /grey levels/);
    // Eye features per frame: the weight rows follow them.
    assert.match(mappingProblem(EYES, { ...WIDTHS, eyes: WIDTHS.eyes - 1 }), new RegExp(`expected ${WIDTHS.eyes} finite weight rows`));
  });
});

describe('names from a stored calibration', () => {
  // Names every object inherits: a table lookup with `in` or `[]` finds them, an own-entry lookup does not.
  const INHERITED = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];

  test('an inherited name is no input block', () => {
    for (const input of INHERITED) {
      const mapping = { ...AFFINE, blocks: [{ ...AFFINE.blocks[0], input }] };
      assert.match(mappingProblem(mapping, WIDTHS), /unknown input/, input);
    }
  });

  test('an inherited name is no activation of a fine-tuned head', () => {
    const layer = (rows, cols) => ({ rows, cols, kernel: new Float32Array(rows * cols), bias: new Float32Array(cols) });
    const head = { activation: 'relu', layers: [layer(WIDTHS.trunk, WIDTHS.features), layer(WIDTHS.features, 2)] };
    assert.equal(headProblem(encodeHead(head), WIDTHS), null);
    for (const activation of INHERITED) {
      assert.match(headProblem(encodeHead({ ...head, activation }), WIDTHS), /unknown activation/, activation);
    }
  });

  test('lookup finds own entries only', () => {
    const table = { relu: 1 };
    assert.equal(lookup(table, 'relu'), 1);
    for (const name of [...INHERITED, 1, null, undefined, ['relu']]) assert.equal(lookup(table, name), undefined, String(name));
  });
});
