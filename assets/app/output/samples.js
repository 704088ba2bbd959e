// The sample log: one entry per frame with a face, exported as JSON or CSV (samples version 2, docs: reference/samples.md).

import { newSessionId } from '../study/session.js';

const round1 = (value) => Math.round(value * 10) / 10;
const pair = (point) => (point === null ? null : [round1(point[0]), round1(point[1])]);

/**
 * A text field as the samples contract takes it (gazesite.samples.schema.is_text): lone surrogates and control characters
 * replaced, at most `max` characters (whole code points, as Python counts them), null when empty. A page id with
 * a 3,000-character query would otherwise get every batch that carries it refused, good samples and all.
 */
export function textField(value, max) {
  if (value === null || value === undefined) return null;
  const text = String(value)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  const clipped = text.length <= max ? text : Array.from(text).slice(0, max).join('');
  return clipped.length > 0 ? clipped : null;
}

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
   * active calibration's summary or null; `participant` is the participant id from the page URL, or null.
   */
  constructor({ format, target, sessionStart, view, study = null, calibration = () => null, participant = null }) {
    Object.assign(this, { format, target, sessionStart, view, study, calibration, participant });
    this.session = newSessionId();
    this.samples = [];
    // The view's own page id of each page id as logged (clipped to the contract's length), for pageInfo.
    this.viewIds = new Map();
    // When a study's participant first saw the page after calibrating, and when they finished (ms, as `t`).
    this.pageStart = null;
    this.pageEnd = null;
  }

  /** The page is shown to the participant now (the first time counts). */
  markPageStart(now = performance.now()) {
    this.pageStart ??= round1(now - this.sessionStart);
  }

  /** The participant finished, or the time limit ended the page, now (the first time counts). */
  markPageEnd(now = performance.now()) {
    this.pageEnd ??= round1(now - this.sessionStart);
  }

  /**
   * Log a gaze point in viewport px (smoothed) and `raw`, this frame's unsmoothed point, with what a later
   * report needs to place it: viewport size, device pixel ratio, the point on the document shown (`doc`,
   * `page`, `element`) and that document's scroll offset, and its `source`: "calibrated" (the per-user
   * calibration's point) or "model" (the raw model output). Returns the sample.
   */
  add({ x, y, raw, face, source = 'model' }, now = performance.now()) {
    const place = this.view.locate(x, y);
    const page = textField(place.page, this.format.maxText);
    if (page !== null && !this.viewIds.has(page)) this.viewIds.set(page, place.page);
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
      page,
      element: textField(place.element, this.format.maxText),
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
      participant: this.participant,
      pageStart: this.pageStart,
      pageEnd: this.pageEnd,
      screen: [screen.width, screen.height],
      calibration: summary && {
        method: summary.method ?? null,
        checkError: summary.validation?.samples > 0 ? summary.validation.error : null,
        rawError: summary.validation?.samples > 0 ? summary.validation.rawError : (summary.rawError ?? null),
        points: summary.points ?? null,
      },
      pages: ids
        .map((id) => this.view.pageInfo(this.viewIds.get(id) ?? id))
        .filter((page) => page !== null)
        .map((page) => ({ ...page, id: textField(page.id, this.format.maxText) })),
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
    // The columns come from the build (gazesite.samples.schema.CSV_V2); each row writes them in that order.
    return [this.format.columns.join(','), ...rows].join('\n') + '\n';
  }
}
