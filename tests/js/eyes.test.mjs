// assets/app/calibration/eyes.js: the eye band's layout, its registration onto a reference, the reference itself.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { eyeFeatureCount, eyeFeatures, eyeReference, integerShift, layoutOf, register } from '../../assets/app/calibration/eyes.js';
import { MATHS, PIPELINE, assertClose, seededRandom } from './helpers.mjs';

const SMALL = Object.freeze({ width: 32, height: 16, marginX: 6, marginY: 4 });
const SETTINGS = { referenceRounds: MATHS.referenceRounds, coarse: MATHS.coarse, smoothing: MATHS.smoothing };

// A smooth grey-level scene f(x, y) in 28..228: a few plane waves of periods 9..25 px, random directions and phases.
function scene(seed) {
  const random = seededRandom(seed);
  const waves = Array.from({ length: 5 }, () => {
    const angle = Math.PI * random();
    const frequency = (2 * Math.PI) / (9 + 16 * random());
    return { kx: frequency * Math.cos(angle), ky: frequency * Math.sin(angle), phase: 2 * Math.PI * random() };
  });
  return (x, y) => 128 + 20 * waves.reduce((sum, w) => sum + Math.sin(w.kx * x + w.ky * y + w.phase), 0);
}

// A scene g(x) + h(y) in 32..224: three waves along each axis.
function separableScene(seed) {
  const random = seededRandom(seed);
  const waves = () =>
    Array.from({ length: 3 }, () => {
      const frequency = (2 * Math.PI) / (9 + 16 * random());
      const phase = 2 * Math.PI * random();
      return (t) => Math.sin(frequency * t + phase);
    });
  const alongX = waves();
  const alongY = waves();
  return (x, y) => 128 + 20 * alongX.reduce((sum, w) => sum + w(x), 0) + 12 * alongY.reduce((sum, w) => sum + w(y), 0);
}

// The band with its margins, sampled from f at integer pixels.
function bandOf(f, layout) {
  const full = layout.width + 2 * layout.marginX;
  const rows = layout.height + 2 * layout.marginY;
  const band = new Uint8Array(full * rows);
  for (let r = 0; r < rows; r += 1) for (let c = 0; c < full; c += 1) band[r * full + c] = Math.round(f(c, r));
  return band;
}

// The width x height window of f whose top-left corner sits at the band's centre moved by (sx, sy), possibly fractional.
function referenceAt(f, layout, sx, sy, offset = 0) {
  const out = new Uint8Array(layout.width * layout.height);
  for (let r = 0; r < layout.height; r += 1) {
    for (let c = 0; c < layout.width; c += 1)
      out[r * layout.width + c] = Math.round(f(layout.marginX + sx + c, layout.marginY + sy + r) + offset);
  }
  return out;
}

describe('layout', () => {
  test('layoutOf reads the pipeline constants', () => {
    assert.deepEqual(layoutOf(PIPELINE), { width: 96, height: 32, marginX: 12, marginY: 8 });
  });

  test('eyeFeatureCount is the halved band, a ragged edge dropped', () => {
    assert.equal(eyeFeatureCount(layoutOf(PIPELINE)), 48 * 16);
    assert.equal(eyeFeatureCount({ width: 7, height: 5, marginX: 0, marginY: 0 }), 3 * 2);
  });
});

describe('registration', () => {
  const f = scene(11);
  const band = bandOf(f, SMALL);

  for (const [dx, dy] of [
    [0, 0],
    [3, -2],
    [-5, 1],
    [1, 3],
    [6, 4],
    [-6, -4],
  ]) {
    test(`integerShift finds a window cut at (${dx}, ${dy}), the margins' edges included`, () => {
      const { dx: gotX, dy: gotY, at } = integerShift(band, referenceAt(f, SMALL, dx, dy), SMALL, SETTINGS);
      assert.deepEqual([gotX, gotY], [dx, dy]);
      // An exact copy costs 0; shifts outside the margins were never tried.
      assert.equal(at(dx, dy), 0);
      assert.equal(at(SMALL.marginX + 1, 0), undefined);
    });
  }

  test('integerShift ignores a uniform brightness change (zero-mean cost)', () => {
    const { dx, dy } = integerShift(band, referenceAt(f, SMALL, -2, 2, 15), SMALL, SETTINGS);
    assert.deepEqual([dx, dy], [-2, 2]);
  });

  test("integerShift works on the pipeline's own band size", () => {
    const layout = layoutOf(PIPELINE);
    const g = scene(12);
    const { dx, dy } = integerShift(bandOf(g, layout), referenceAt(g, layout, -9, 5), layout, SETTINGS);
    assert.deepEqual([dx, dy], [-9, 5]);
  });

  // On a scene that is a sum of a function of x and a function of y the
  // zero-mean cost splits into an x part and a y part, so the integer search
  // and the per-axis parabolas are right: the truth is within half a pixel.
  const g = separableScene(14);
  const textured = bandOf(g, SMALL);

  // Shifts whose fine search (the coarse best, doubled, +-1) has the best integer in its middle, so both neighbours are costed.
  for (const [sx, sy] of [
    [2.3, -1.7],
    [-3.7, 0.35],
    [0.35, 2.3],
    [4.3, -2.3],
  ]) {
    test(`register recovers the sub-pixel shift (${sx}, ${sy}) better than the nearest integer`, () => {
      const [x, y] = register(textured, referenceAt(g, SMALL, sx, sy), SMALL, SETTINGS);
      assert.ok(Math.abs(x - sx) < 0.15, `x: ${x} for ${sx}`);
      assert.ok(Math.abs(y - sy) < 0.15, `y: ${y} for ${sy}`);
    });
  }

  test('register is never more than half a pixel off, anywhere inside the margins', () => {
    for (let sx = -5.5; sx <= 5.5; sx += 0.25) {
      for (let sy = -3.5; sy <= 3.5; sy += 0.5) {
        const [x, y] = register(textured, referenceAt(g, SMALL, sx, sy), SMALL, SETTINGS);
        assert.ok(Math.abs(x - sx) <= 0.5 + 1e-9 && Math.abs(y - sy) <= 0.5 + 1e-9, `(${x}, ${y}) for (${sx}, ${sy})`);
      }
    }
  });
});

describe('reference and features', () => {
  const f = scene(13);
  const band = bandOf(f, SMALL);
  const centre = referenceAt(f, SMALL, 0, 0);

  test('eyeReference of identical bands is the band without its margins', () => {
    const reference = eyeReference([band, band, band], SMALL, SETTINGS);
    assert.ok(reference instanceof Uint8Array);
    assert.deepEqual(Array.from(reference), Array.from(centre));
  });

  test('eyeReference registers shifted copies back onto one another', () => {
    // Bands of one scene seen from three places; the first is the scene itself.
    const moved = (sx, sy) => bandOf((x, y) => f(x + sx, y + sy), SMALL);
    const reference = eyeReference([band, moved(1, 0), moved(0, -1)], SMALL, SETTINGS);
    // Registered, every band shows the same pixels again: the mean is one of them (the shifts cancel out to within 1 px).
    const candidates = [-1, 0, 1].flatMap((sx) => [-1, 0, 1].map((sy) => referenceAt(f, SMALL, sx, sy)));
    const best = Math.min(...candidates.map((c) => c.reduce((worst, value, i) => Math.max(worst, Math.abs(value - reference[i])), 0)));
    assert.ok(best <= 1, `the reference is no registered window of the scene (max difference ${best})`);
  });

  test('eyeFeatures: eyeFeatureCount values, zero mean, unit variance', () => {
    const values = eyeFeatures(band, centre, SMALL, SETTINGS);
    assert.equal(values.length, eyeFeatureCount(SMALL));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    assertClose(mean, 0, 1e-12);
    assertClose(variance, 1, 1e-12);
  });

  test('eyeFeatures does not change with a uniform brightness change of the band', () => {
    const brighter = band.map((value) => value + 20);
    assert.ok(Math.max(...band) + 20 <= 255);
    assertClose(eyeFeatures(brighter, centre, SMALL, SETTINGS), eyeFeatures(band, centre, SMALL, SETTINGS), 1e-9);
  });

  test('eyeFeatures of a flat band are zeros, not NaN', () => {
    const flat = new Uint8Array(band.length).fill(90);
    const values = eyeFeatures(flat, centre, SMALL, SETTINGS);
    assert.ok(values.every((value) => value === 0));
  });
});
