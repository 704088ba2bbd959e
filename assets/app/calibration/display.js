// The calibration overlay's dot helpers. Where the calibration and check
// dots go is decided at build time (gazesite/calibration/dots.py) and read
// from the page's settings; here they are shuffled for display, and the
// recording dot's path is drawn. Points are fractions of the overlay (of the
// screen when the overlay is fullscreen), (0, 0) top-left.

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
// margin..1-margin box and closes after 30 s, slow enough (at most ~0.25
// screen widths per second) for the eyes to follow it smoothly.
const PERIOD_X = 10000;
const PERIOD_Y = 7500;

/** The moving recording dot at `ms` after it starts: [x, y], starting at the centre; `margin` keeps it off the edges. */
export function recordingPath(ms, margin) {
  const amplitude = 0.5 - margin;
  return [0.5 + amplitude * Math.sin((2 * Math.PI * ms) / PERIOD_X), 0.5 + amplitude * Math.sin((2 * Math.PI * ms) / PERIOD_Y)];
}
