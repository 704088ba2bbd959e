// The status line, the frame-refused notice and the calibration status.

import { MESSAGES, RUNNING_CALIBRATED } from '../messages.js';
import { calibrationQuality } from '../calibration/quality.js';

// States in which the camera side is fine; a refused frame outranks them.
const CAMERA_OK = new Set(['waiting-permission', 'no-face', 'running', 'stopped']);

/**
 * The status line (#status: data-state plus a short sentence).
 *
 * When the build found that the target refuses framing, data-state stays
 * `frame-refused` while the camera is fine (waiting-permission, no-face,
 * running, stopped), and the sentence says both; the camera's own state is
 * in data-camera. Problems that need the visitor (camera-denied, no-camera,
 * model-missing, error) replace it, since they stop tracking altogether.
 * While loading, `loading` shows. So the shown state is a pure function of
 * (camera state, refused), whatever order events arrive in. The default
 * running sentence says whether gaze is calibrated.
 */
export class Status {
  constructor(element) {
    this.element = element;
    this.refusedReason = null;
    this.calibrated = false;
    this.last = null;
    this.state = element.dataset.state;
    this.text = element.textContent;
    // Rewrites every sentence before it shows (a study's participant has no Start button: participant.js).
    this.wording = (text) => text;
  }

  /** Say from now on whether gaze is calibrated (the running sentence changes at once). */
  setCalibrated(calibrated) {
    this.calibrated = calibrated;
    if (this.last !== null) this.set(...this.last);
  }

  /** From now on, combine camera states with "the target refuses framing" (see above). */
  refuseFrame(reason) {
    this.refusedReason = reason;
  }

  /** Show a state with an optional sentence (a default one otherwise). */
  set(state, given) {
    this.last = [state, given];
    const message = given ?? (state === 'running' && this.calibrated ? RUNNING_CALIBRATED : MESSAGES[state]);
    const refused = this.refusedReason !== null && CAMERA_OK.has(state);
    const shown = refused ? 'frame-refused' : state;
    const text = this.wording(refused ? `Target not shown: ${this.refusedReason}. ${message}` : message);
    // Called every frame: touch the DOM (and the live region) only on a change.
    if (shown === this.state && state === this.element.dataset.camera && text === this.text) return;
    this.state = shown;
    this.text = text;
    this.element.dataset.state = shown;
    this.element.dataset.camera = state;
    this.element.textContent = text;
  }
}

/** Show the notice that the target cannot be framed, with the build's reason. */
export function showFrameRefused(notice, reason) {
  const line = document.createElement('p');
  line.textContent = `Reason: ${reason}.`;
  notice.append(line);
  notice.hidden = false;
}

// What the calibration status adds for a calibration that is not good.
const QUALITY_NOTES = { worse: ' (worse than the model alone: redo it)', poor: ' (poor: redo it)' };

/**
 * #calibration-status: data-calibrated, data-quality (calibration/quality.js: only "good" shows as good)
 * and a short sentence with the active calibration's error. `poorError` comes from the build.
 */
export class CalibrationStatus {
  constructor(element) {
    this.element = element;
    this.poorError = null; // the build's config.calibration.poorError, set once the settings are read
  }

  /**
   * Show a calibration summary, or null for none. The figure is the
   * validation error when the calibration had check points, otherwise its
   * cross-validated error; `definition` becomes the hover text.
   */
  show(summary, definition) {
    const calibrated = summary !== null;
    this.element.dataset.calibrated = String(calibrated);
    this.element.dataset.quality = calibrated ? calibrationQuality(summary, this.poorError) : 'none';
    if (!calibrated) {
      this.element.textContent = 'Not calibrated';
      this.element.title = 'Gaze comes from the model alone: press Calibrate to fit it to you';
      return;
    }
    const measured = summary.validation?.samples > 0 ? summary.validation.errorPx : summary.cvErrorPx;
    const note = QUALITY_NOTES[this.element.dataset.quality] ?? '';
    this.element.textContent = Number.isFinite(measured) ? `Calibrated: ${Math.round(measured)} px mean error${note}` : `Calibrated${note}`;
    this.element.title = `${summary.validation?.samples > 0 ? 'On the check points' : 'Cross-validated'}. ${definition}`;
  }
}
