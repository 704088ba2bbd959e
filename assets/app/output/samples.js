// The sample log: one entry per frame with a face, exported as JSON or CSV.

const CSV_COLUMNS = [
  't', 'x', 'y', 'viewport_width', 'viewport_height', 'face_x', 'face_y', 'face_w', 'face_h',
  'scroll_x', 'scroll_y', 'dpr', 'source',
];

const round1 = (value) => Math.round(value * 10) / 10;

export class SampleLog {
  /** `sessionStart` is a performance.now() time; sample times count from it. */
  constructor({ format, target, sessionStart }) {
    this.format = format;
    this.target = target;
    this.sessionStart = sessionStart;
    this.samples = [];
  }

  /**
   * Log a gaze point in viewport px with what a later report needs to place
   * it on the page: viewport size, scroll offset and device pixel ratio, and
   * its `source`: "calibrated" (the per-user calibration's point) or "model"
   * (the raw model output).
   */
  add({ x, y, face, source = 'model' }, now = performance.now()) {
    this.samples.push({
      t: round1(now - this.sessionStart),
      x: round1(x),
      y: round1(y),
      viewport: [innerWidth, innerHeight],
      scroll: [scrollX, scrollY],
      dpr: devicePixelRatio,
      face: [...face],
      source,
    });
  }

  /** The export document (format name and version from the build). */
  toJSON() {
    return {
      format: this.format.name,
      version: this.format.version,
      target: this.target,
      created: new Date().toISOString(),
      started: new Date(performance.timeOrigin + this.sessionStart).toISOString(),
      samples: this.samples,
    };
  }

  /** The samples as CSV, one row per sample (numbers and the fixed source words, so no quoting is needed). */
  toCSV() {
    const rows = this.samples.map((s) => [
      s.t, s.x, s.y, ...s.viewport, ...s.face, ...s.scroll, s.dpr, s.source,
    ].join(','));
    return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
  }
}
