// The sample log: one entry per frame with a face, exported as JSON or CSV (samples version 2, README "Samples").

import { newSessionId } from '../study/session.js';

const round1 = (value) => Math.round(value * 10) / 10;
const pair = (point) => (point === null ? null : [round1(point[0]), round1(point[1])]);

// One CSV cell: empty for null; quoted (RFC 4180) when it holds a comma, quote, CR or LF.
function cell(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export class SampleLog {
  /**
   * `sessionStart` is a performance.now() time; sample times count from it. `view` places a viewport point
   * on the document shown (study/view.js); `study` is the build's study name; `calibration()` returns the
   * active calibration's summary or null.
   */
  constructor({ format, target, sessionStart, view, study = null, calibration = () => null }) {
    Object.assign(this, { format, target, sessionStart, view, study, calibration });
    this.session = newSessionId();
    this.samples = [];
  }

  /**
   * Log a gaze point in viewport px (smoothed) and `raw`, this frame's unsmoothed point, with what a later
   * report needs to place it: viewport size, device pixel ratio, the point on the document shown (`doc`,
   * `page`, `element`) and that document's scroll offset, and its `source`: "calibrated" (the per-user
   * calibration's point) or "model" (the raw model output). Returns the sample.
   */
  add({ x, y, raw, face, source = 'model' }, now = performance.now()) {
    const place = this.view.locate(x, y);
    const sample = {
      t: round1(now - this.sessionStart),
      x: round1(x),
      y: round1(y),
      viewport: [innerWidth, innerHeight],
      scroll: pair(place.scroll),
      dpr: devicePixelRatio,
      face: [...face],
      source,
      raw: pair(raw ?? [x, y]),
      doc: pair(place.doc),
      page: place.page,
      element: place.element,
    };
    this.samples.push(sample);
    return sample;
  }

  /** The export document (format name and version from the build). */
  toJSON() {
    const summary = this.calibration();
    const ids = [...new Set(this.samples.map((s) => s.page).filter((id) => id !== null))];
    return {
      format: this.format.name,
      version: this.format.version,
      target: this.target,
      created: new Date().toISOString(),
      started: new Date(performance.timeOrigin + this.sessionStart).toISOString(),
      mode: this.view.mode,
      session: this.session,
      study: this.study,
      screen: [screen.width, screen.height],
      calibration: summary && {
        method: summary.method ?? null,
        checkError: summary.validation?.samples > 0 ? summary.validation.error : null,
        rawError: summary.validation?.samples > 0 ? summary.validation.rawError : (summary.rawError ?? null),
        points: summary.points ?? null,
      },
      pages: ids.map((id) => this.view.pageInfo(id)).filter((page) => page !== null),
      samples: this.samples,
    };
  }

  /** The samples as CSV, one row per sample. */
  toCSV() {
    const rows = this.samples.map((s) =>
      [s.t, s.x, s.y, ...s.viewport, ...s.face, ...s.scroll, s.dpr, s.source, ...s.raw, ...(s.doc ?? [null, null]), s.page, s.element]
        .map(cell)
        .join(','),
    );
    // The columns come from the build (gazesite.study.CSV_V2); each row writes them in that order.
    return [this.format.columns.join(','), ...rows].join('\n') + '\n';
  }
}
