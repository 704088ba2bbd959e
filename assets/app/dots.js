// Where the calibration, validation and recording dots go, in fractions of
// the overlay (of the screen when the overlay is fullscreen), (0, 0) top-left.

// Dots stay this far from the edges: eyes and models are least reliable at
// the very border, and the person should not have to hunt for a dot.
const MARGIN = 0.1;
const MIDDLE = 0.5;
const FAR = 1 - MARGIN;
// Candidate positions for filled-in and validation dots: a 5% lattice.
const LATTICE_STEP = 0.05;

function grid(size) {
  const points = [];
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      points.push([MARGIN + (col * (FAR - MARGIN)) / (size - 1), MARGIN + (row * (FAR - MARGIN)) / (size - 1)]);
    }
  }
  return points;
}

const CORNERS_AND_CENTRE = [[MARGIN, MARGIN], [FAR, MARGIN], [MIDDLE, MIDDLE], [MARGIN, FAR], [FAR, FAR]];
const QUADRANT_CENTRES = [[0.3, 0.3], [0.7, 0.3], [0.3, 0.7], [0.7, 0.7]];

// The hand-made layouts; any other count is filled in from the largest one below it.
const LAYOUTS = new Map([
  [5, CORNERS_AND_CENTRE],
  [9, grid(3)],
  [13, [...grid(3), ...QUADRANT_CENTRES]],
  [16, grid(4)],
  [25, grid(5)],
]);

function lattice(low, high) {
  const points = [];
  const steps = Math.round((high - low) / LATTICE_STEP);
  for (let row = 0; row <= steps; row += 1) {
    for (let col = 0; col <= steps; col += 1) points.push([low + col * LATTICE_STEP, low + row * LATTICE_STEP]);
  }
  return points;
}

// Greedy farthest-point fill: add `count` lattice points, each as far as
// possible from every point so far; among equally far ones, the one farthest
// from the points this fill added (so they spread out rather than line up),
// then the first in reading order. Deterministic and spread out.
function fillFarthest(taken, count, candidates) {
  const nearest = (candidate, points) => Math.min(...points.map(([x, y]) => Math.hypot(candidate[0] - x, candidate[1] - y)));
  const points = taken.map((p) => [...p]);
  const added = [];
  for (let n = 0; n < count; n += 1) {
    let best = null;
    let bestKey = [-1, -1];
    for (const candidate of candidates) {
      const key = [nearest(candidate, points), added.length > 0 ? nearest(candidate, added) : 0];
      const farther = key[0] > bestKey[0] + 1e-9 || (Math.abs(key[0] - bestKey[0]) <= 1e-9 && key[1] > bestKey[1] + 1e-9);
      if (farther) {
        best = candidate;
        bestKey = key;
      }
    }
    points.push(best);
    added.push(best);
  }
  return added;
}

/**
 * The calibration dots for `count` points (5..25): 5 = four near-corners and
 * the centre; 9 = a 3x3 grid at 10%/50%/90%; 13 = that grid plus the centres
 * of its four quadrants; 16 and 25 = 4x4 and 5x5 grids; any other count
 * starts from the largest of these below it and adds the lattice points
 * farthest from the dots so far. Deterministic; shuffle for display.
 */
export function calibrationLayout(count) {
  const wanted = Math.min(25, Math.max(5, Math.round(count)));
  const base = Math.max(...[...LAYOUTS.keys()].filter((size) => size <= wanted));
  const points = LAYOUTS.get(base).map((p) => [...p]);
  return [...points, ...fillFarthest(points, wanted - base, lattice(MARGIN, FAR))];
}

/**
 * `count` validation dots away from the calibration dots `used`, inside the
 * calibrated area (15%..85%, so validation measures interpolation, which is
 * what tracking needs, not extrapolation to the border): the farthest lattice
 * points from every dot so far. Deterministic.
 */
export function validationLayout(count, used) {
  return fillFarthest(used, count, lattice(0.15, 0.85));
}

/** A shuffled copy of `points` (Fisher-Yates); `random` returns numbers in [0, 1). */
export function shuffled(points, random = Math.random) {
  const out = points.map((p) => [...p]);
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// The recording path's periods (ms): a 4:3 Lissajous figure that covers the
// 10%..90% box and closes after 30 s, slow enough (at most ~0.25 screen
// widths per second) for the eyes to follow it smoothly.
const PERIOD_X = 10000;
const PERIOD_Y = 7500;

/** The moving recording dot at `ms` after it starts: [x, y], starting at the centre. */
export function recordingPath(ms) {
  const amplitude = MIDDLE - MARGIN;
  return [
    MIDDLE + amplitude * Math.sin((2 * Math.PI * ms) / PERIOD_X),
    MIDDLE + amplitude * Math.sin((2 * Math.PI * ms) / PERIOD_Y),
  ];
}
