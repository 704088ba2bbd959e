// The active per-user calibration: applied to every frame, kept in
// localStorage per model so it survives a reload but never outlives the weights it was fitted for.

import { applyMapping, mappingProblem } from './choose.js';

const FORMAT = 'gazesite-calibration';
// Version 2: mappings of input blocks (eye band, model output, features).
const VERSION = 2;

/** The localStorage key of the calibration for one model (config.model.hash). */
export function storageKey(modelHash) {
  return `gazesite.calibration.v${VERSION}.${modelHash}`;
}

// localStorage throws on access in some contexts (storage disabled, opaque
// origins) and on a full quota: the calibration then lives for this page only.
function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export class CalibrationStore {
  /**
   * `widths` (see choose.js mappingProblem) rejects a stored mapping the
   * pipeline cannot feed;
   * `onChange(summary | null)` hears every change.
   */
  constructor({ modelHash, widths, context, onChange = () => {}, storage = defaultStorage() }) {
    this.key = modelHash ? storageKey(modelHash) : null;
    this.widths = widths;
    // The calibration maths' settings and the eye band's layout (see choose.js).
    this.context = context;
    this.onChange = onChange;
    this.storage = storage;
    this.active = null;
  }

  /** The active calibration's summary, or null. */
  get summary() {
    return this.active?.summary ?? null;
  }

  /** Load the stored calibration, if any; a broken or mismatched entry is dropped. Returns the summary or null. */
  restore() {
    const text = this.read();
    if (text === null) return null;
    let stored = null;
    try {
      stored = JSON.parse(text);
    } catch {
      // Handled below like any other unusable entry.
    }
    if (!this.usable(stored)) {
      this.remove();
      return null;
    }
    this.active = { summary: stored.summary, mapping: stored.mapping };
    this.onChange(this.summary);
    return this.summary;
  }

  /** Make {summary, mapping} the active calibration, in memory and in storage. */
  activate({ summary, mapping }) {
    this.active = { summary, mapping };
    this.write(JSON.stringify({ format: FORMAT, version: VERSION, summary, mapping }));
    this.onChange(this.summary);
  }

  /** Forget the calibration, in memory and in storage. */
  reset() {
    this.active = null;
    this.remove();
    this.onChange(null);
  }

  /** The calibrated gaze [x, y] of a pipeline result, or null without a calibration or a face. */
  apply(result) {
    if (this.active === null || result.face === null || result.gaze === null) return null;
    return applyMapping(this.active.mapping, result, this.context);
  }

  // Whether a parsed storage entry is a calibration this model can apply
  // (a tampered or stale entry must not turn every point into NaN).
  usable(stored) {
    if (stored?.format !== FORMAT || stored.version !== VERSION || !stored.summary || typeof stored.summary !== 'object') return false;
    return mappingProblem(stored.mapping, this.widths) === null;
  }

  read() {
    try {
      return this.key && this.storage ? this.storage.getItem(this.key) : null;
    } catch {
      return null;
    }
  }

  write(text) {
    try {
      if (this.key && this.storage) this.storage.setItem(this.key, text);
    } catch {
      // Quota or disabled storage: the calibration still holds for this page.
    }
  }

  remove() {
    try {
      if (this.key && this.storage) this.storage.removeItem(this.key);
    } catch {
      // Nothing stored that could be removed.
    }
  }
}
