// assets/app/track/smoothing.js: the moving average of the last N gaze points.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { MovingAverage } from '../../assets/app/track/smoothing.js';
import { assertClose } from './helpers.mjs';

describe('MovingAverage', () => {
  test('averages what it has until the window is full, then the last N points', () => {
    const average = new MovingAverage(3);
    assert.deepEqual(average.push([1, 10]), [1, 10]);
    assert.deepEqual(average.push([2, 20]), [1.5, 15]);
    assert.deepEqual(average.push([3, 30]), [2, 20]);
    // The oldest point (1, 10) drops out.
    assert.deepEqual(average.push([10, 0]), [5, 50 / 3]);
    assert.deepEqual(average.push([10, 0]), [23 / 3, 10]);
    assertClose(average.push([10, 0]), [10, 0], 1e-12);
  });

  test('a window of one follows the last point exactly', () => {
    const average = new MovingAverage(1);
    for (const point of [
      [0.1, 0.2],
      [0.9, 0.4],
      [0.3, 0.7],
    ])
      assert.deepEqual(average.push(point), point);
  });

  test('sizes are whole and at least 1', () => {
    assert.equal(new MovingAverage(0).size, 1);
    assert.equal(new MovingAverage(-3).size, 1);
    assert.equal(new MovingAverage(4.9).size, 4);
  });

  test('reset forgets every point', () => {
    const average = new MovingAverage(4);
    average.push([100, 100]);
    average.push([50, 50]);
    average.reset();
    assert.deepEqual(average.push([2, 4]), [2, 4]);
    assert.deepEqual(average.push([4, 8]), [3, 6]);
  });

  test('a constant input gives that constant, whatever the window', () => {
    for (const size of [1, 2, 5, 10]) {
      const average = new MovingAverage(size);
      for (let i = 0; i < 3 * size; i += 1) assertClose(average.push([0.25, 0.75]), [0.25, 0.75], 1e-15);
    }
  });
});
