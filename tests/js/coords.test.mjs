// assets/app/track/coords.js: screen fractions <-> viewport px, for given window metrics.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { screenToViewport, viewportToScreen, windowMetrics } from '../../assets/app/track/coords.js';
import { assertClose } from './helpers.mjs';

// A 1200 x 900 window at (100, 50) on a 1920 x 1080 screen, with 10 px side
// borders and 90 px of tabs and address bar on top: the viewport starts at (110, 140).
const WINDOWED = Object.freeze({
  screenLeft: 0,
  screenTop: 0,
  screenWidth: 1920,
  screenHeight: 1080,
  windowX: 100,
  windowY: 50,
  outerWidth: 1200,
  outerHeight: 900,
  innerWidth: 1180,
  innerHeight: 800,
});

// Fullscreen: outer == inner, the viewport is the screen.
const FULLSCREEN = Object.freeze({
  screenLeft: 0,
  screenTop: 0,
  screenWidth: 1440,
  screenHeight: 900,
  windowX: 0,
  windowY: 0,
  outerWidth: 1440,
  outerHeight: 900,
  innerWidth: 1440,
  innerHeight: 900,
});

// A window on the second screen of an extended desktop (the second screen starts at x = 1920).
const SECOND_SCREEN = Object.freeze({
  screenLeft: 1920,
  screenTop: 0,
  screenWidth: 2560,
  screenHeight: 1440,
  windowX: 2100,
  windowY: 200,
  outerWidth: 1600,
  outerHeight: 1000,
  innerWidth: 1600,
  innerHeight: 920,
});

describe('screenToViewport', () => {
  test('subtracts the viewport origin: window corner plus side border and the chrome on top', () => {
    // (960, 540) on the screen - (110, 140).
    assert.deepEqual(screenToViewport([0.5, 0.5], WINDOWED), { x: 850, y: 400 });
    assert.deepEqual(screenToViewport([0.5, 0.5], FULLSCREEN), { x: 720, y: 450 });
    // 1920 + 0.25 * 2560 - 2100 = 460; 0.5 * 1440 - (200 + 80) = 440.
    assert.deepEqual(screenToViewport([0.25, 0.5], SECOND_SCREEN), { x: 460, y: 440 });
  });

  test('clamps points off the viewport onto its edge pixels', () => {
    assert.deepEqual(screenToViewport([0, 0], WINDOWED), { x: 0, y: 0 });
    assert.deepEqual(screenToViewport([1, 1], WINDOWED), { x: 1179, y: 799 });
    assert.deepEqual(screenToViewport([-0.5, 2], FULLSCREEN), { x: 0, y: 899 });
  });
});

describe('viewportToScreen', () => {
  test('is the inverse of screenToViewport inside the viewport, for every window layout', () => {
    for (const metrics of [WINDOWED, FULLSCREEN, SECOND_SCREEN]) {
      for (let x = 0; x < metrics.innerWidth; x += 97) {
        for (let y = 0; y < metrics.innerHeight; y += 83) {
          const gaze = viewportToScreen({ x, y }, metrics);
          const back = screenToViewport(gaze, metrics);
          assertClose([back.x, back.y], [x, y], 1e-9);
          assertClose(viewportToScreen(back, metrics), gaze, 1e-12);
        }
      }
    }
  });

  test('takes an [x, y] pair as well as {x, y}, and does not clamp', () => {
    assert.deepEqual(viewportToScreen([850, 400], WINDOWED), [0.5, 0.5]);
    assert.deepEqual(viewportToScreen({ x: 850, y: 400 }, WINDOWED), [0.5, 0.5]);
    // 110 - 1000 px is left of the screen.
    assert.ok(viewportToScreen([-1000, 0], WINDOWED)[0] < 0);
  });
});

describe('windowMetrics', () => {
  const screen = { width: 2560, height: 1440, availLeft: 1920, availTop: 24 };
  const win = { screenX: 2100, screenY: 200, outerWidth: 1600, outerHeight: 1000, innerWidth: 1600, innerHeight: 920 };

  test('uses availLeft/availTop only on an extended desktop', () => {
    const extended = windowMetrics({ ...win, screen: { ...screen, isExtended: true } });
    assert.equal(extended.screenLeft, 1920);
    assert.equal(extended.screenTop, 24);
    const single = windowMetrics({ ...win, screen: { ...screen, isExtended: false } });
    assert.equal(single.screenLeft, 0);
    assert.equal(single.screenTop, 0);
  });

  test('copies the window and screen sizes', () => {
    assert.deepEqual(windowMetrics({ ...win, screen }), {
      screenLeft: 0,
      screenTop: 0,
      screenWidth: 2560,
      screenHeight: 1440,
      windowX: 2100,
      windowY: 200,
      outerWidth: 1600,
      outerHeight: 1000,
      innerWidth: 1600,
      innerHeight: 920,
    });
  });
});
