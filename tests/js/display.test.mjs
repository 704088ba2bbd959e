// assets/app/calibration/display.js: the shuffled dot order and the recording dot's path.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { recordingPath, shuffled } from '../../assets/app/calibration/display.js';
import { assertClose, seededRandom } from './helpers.mjs';

const POINTS = [
  [0.1, 0.1],
  [0.5, 0.1],
  [0.9, 0.1],
  [0.1, 0.5],
  [0.5, 0.5],
  [0.9, 0.5],
  [0.1, 0.9],
  [0.5, 0.9],
  [0.9, 0.9],
];

const key = (points) => points.map((p) => p.join(',')).sort();

describe('shuffled', () => {
  test('is a permutation of its input and leaves the input alone', () => {
    const input = POINTS.map((p) => [...p]);
    const out = shuffled(input, seededRandom(1));
    assert.deepEqual(key(out), key(POINTS));
    assert.deepEqual(input, POINTS);
  });

  test('returns copies of the points: changing one does not change the input', () => {
    const input = POINTS.map((p) => [...p]);
    const out = shuffled(input, seededRandom(2));
    for (const point of out) point[0] = -1;
    assert.deepEqual(input, POINTS);
  });

  test('is deterministic for a given random source', () => {
    assert.deepEqual(shuffled(POINTS, seededRandom(3)), shuffled(POINTS, seededRandom(3)));
    assert.notDeepEqual(shuffled(POINTS, seededRandom(3)), shuffled(POINTS, seededRandom(4)));
  });

  test('follows Fisher-Yates: random() = 0 rotates left, random() -> 1 keeps the order', () => {
    // j = 0 at every step: swaps (3, 0), (2, 0), (1, 0) turn a b c d into b c d a.
    assert.deepEqual(
      shuffled([[1], [2], [3], [4]], () => 0),
      [[2], [3], [4], [1]],
    );
    // j = i at every step: nothing moves.
    assert.deepEqual(
      shuffled([[1], [2], [3], [4]], () => 0.999999),
      [[1], [2], [3], [4]],
    );
  });

  test('gives every order of three points about equally often', () => {
    const random = seededRandom(5);
    const counts = new Map();
    for (let i = 0; i < 6000; i += 1) {
      const order = shuffled([[0], [1], [2]], random).join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    // 1000 expected each; the standard deviation is about 29.
    for (const [order, count] of counts) assert.ok(count > 850 && count < 1150, `${order}: ${count}`);
  });

  test('handles no points and one point', () => {
    assert.deepEqual(shuffled([], seededRandom(6)), []);
    assert.deepEqual(shuffled([[0.5, 0.5]], seededRandom(6)), [[0.5, 0.5]]);
  });
});

describe('recordingPath', () => {
  test('starts at the centre', () => {
    assert.deepEqual(recordingPath(0, 0.1), [0.5, 0.5]);
  });

  test('stays within margin..1-margin for the whole 30 s, and reaches every edge of that box', () => {
    for (const margin of [0, 0.05, 0.1, 0.2]) {
      let [minX, minY, maxX, maxY] = [1, 1, 0, 0];
      for (let ms = 0; ms <= 30000; ms += 5) {
        const [x, y] = recordingPath(ms, margin);
        assert.ok(x >= margin - 1e-12 && x <= 1 - margin + 1e-12, `x ${x} at ${ms} ms, margin ${margin}`);
        assert.ok(y >= margin - 1e-12 && y <= 1 - margin + 1e-12, `y ${y} at ${ms} ms, margin ${margin}`);
        [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
      }
      assertClose([minX, minY, maxX, maxY], [margin, margin, 1 - margin, 1 - margin], 1e-6);
    }
  });

  test('is a closed figure: position and heading repeat at 30 s and not before', () => {
    assertClose(recordingPath(30000, 0.1), [0.5, 0.5], 1e-12);
    assertClose(recordingPath(30100, 0.1), recordingPath(100, 0.1), 1e-12);
    // x repeats every 10 s, y every 7.5 s: at 7.5 s and 10 s only one axis is back.
    assertClose(recordingPath(7500, 0.1)[0], 0.1, 1e-12);
    assert.ok(Math.abs(recordingPath(10000, 0.1)[1] - 0.5) > 0.3);
    // At 15 s it crosses the centre again, but heading left instead of right.
    assertClose(recordingPath(15000, 0.1), [0.5, 0.5], 1e-12);
    assert.ok(recordingPath(15100, 0.1)[0] < 0.5 && recordingPath(100, 0.1)[0] > 0.5);
  });

  test('a quarter period of x puts the dot at the right edge of the box', () => {
    // x = 0.5 + 0.4 sin(pi / 2); y = 0.5 + 0.4 sin(2 pi / 3).
    assertClose(recordingPath(2500, 0.1), [0.9, 0.5 + 0.4 * Math.sin((2 * Math.PI) / 3)], 1e-12);
  });
});
