// The calibration and recording flows: dots on the overlay, camera frames
// from the tracker, then the fit, the validation and the result screen.
// gazesite.calibrate() and the Calibrate button share fit() and accept().

import { fitCalibration, validateMapping } from './choose.js';
import { finetuneCandidate } from './finetune.js';
import { viewportToScreen, windowMetrics } from '../track/coords.js';
import { recordingPath, shuffled } from './display.js';
import { calibrationQuality } from './quality.js';
import { describeCalibration, describeRecording, participantResult } from './result.js';

export { ERROR_DEFINITION, formatError } from './result.js';

// A dot that saw no face while collecting stays up this much longer (with a
// hint) before the flow moves on without it.
const NO_FACE_GRACE_MS = 4000;

/** The screen size (CSS px) that turns screen fractions into px. */
export function screenSize() {
  return { width: screen.width, height: screen.height };
}

// What a calibration keeps of a pipeline result with a face: every input a candidate reads, and the target.
function calibrationFrame({ crop, eyes, features, gaze, trunk }, target) {
  return { crop, eyes, features, gaze, trunk, target };
}

// Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts.
function sleep(ms, signal) {
  return untilAborted(new Promise((resolve) => setTimeout(resolve, ms)), signal);
}

// `promise`, or a rejection with the abort reason as soon as `signal` aborts.
function untilAborted(promise, signal) {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class Calibrator {
  /**
   * `settings` is config.calibration ({points, settleMs, collectMs,
   * validationPoints, recordSeconds}); `onBusy(busy)` hears a flow start and end.
   */
  constructor({ tracker, pipeline, overlay, store, dataset, settings, context, finetune = null, onBusy = () => {} }) {
    // `context` is the maths' {settings, layout} (choose.js); `finetune` ({tf,
    // head}, or null when the model's head cannot be refitted) adds the fine-tuning candidate.
    Object.assign(this, { tracker, pipeline, overlay, store, dataset, settings, context, finetune, onBusy });
    this.controller = null;
    // Where the tracker's frames go while a flow collects; null between dots.
    this.sink = null;
    // The dot whose frames are being kept and the phase ("fit" or "check"), or null: what a test's frame source reads.
    this.collecting = null;
  }

  /** Whether a calibration or recording is on screen. */
  get busy() {
    return this.controller !== null;
  }

  /**
   * Fit a calibration to frames with a face ({crop, eyes, features, gaze,
   * trunk, target}); resolves with {summary, mapping}. Fine-tuning (when the
   * model allows it) runs first and reports its progress on the overlay.
   * Rejects with a readable Error when the frames cover fewer than
   * settings.minTargets distinct targets.
   */
  async fit(frames, context = '') {
    const targets = new Set(frames.map(({ target }) => `${target[0]},${target[1]}`));
    const { minTargets } = this.context.settings;
    if (targets.size < minTargets) {
      throw new Error(`calibration needs frames with a face at ${minTargets} or more distinct targets; ` + `got ${targets.size}${context}`);
    }
    const extra = [];
    const began = performance.now();
    if (this.finetune !== null && frames.every((frame) => frame.trunk?.length > 0)) {
      const onProgress = (done, total) => this.overlay.say(`Fitting your calibration: ${Math.round((100 * done) / total)}%`);
      const { tf, head } = this.finetune;
      extra.push(await finetuneCandidate(tf, head, frames, this.context.settings.finetune, onProgress));
    }
    const tuned = performance.now();
    this.overlay.say('Fitting your calibration: choosing among the mappings…');
    // Let the sentence reach the screen: the ridge candidates then run in one go (0.1-2 s).
    await new Promise((resolve) => setTimeout(resolve, 0));
    const calibration = fitCalibration(frames, screenSize(), this.context, extra);
    // How long fitting took (ms), for benchmarks and the debug panel.
    calibration.summary.timings = { finetune: tuned - began, ridge: performance.now() - tuned };
    return calibration;
  }

  /** Make a calibration active and stored, and keep its frames for the dataset download. */
  accept(calibration, frames) {
    this.store.activate(calibration);
    this.dataset.add(frames, 'calibration');
  }

  /**
   * gazesite.calibrate(): run each {image: ImageData, target: [x, y]} through
   * the pipeline, fit, accept; resolves with the summary.
   */
  async calibrateImages(samples) {
    if (!Array.isArray(samples)) throw new TypeError('calibrate() expects an array of {image: ImageData, target: [x, y]}');
    const frames = [];
    for (const [i, { image, target } = {}] of samples.entries()) {
      if (!Array.isArray(target) || target.length !== 2 || !target.every(Number.isFinite)) {
        throw new TypeError(`calibrate(): sample ${i} needs a target [x, y] of two numbers (fractions of the screen)`);
      }
      const result = await this.pipeline.run(image);
      if (result.face !== null) frames.push(calibrationFrame(result, [target[0], target[1]]));
    }
    const distinct = new Set(samples.map(({ target }) => `${target[0]},${target[1]}`)).size;
    const calibration = await this.fit(frames, ` (${frames.length} of ${samples.length} frames at ${distinct} targets had a face)`);
    this.accept(calibration, frames);
    return calibration.summary;
  }

  /**
   * The Calibrate button: dots, fit, validation dots, result screen; accept activates, cancel changes
   * nothing. With `participant` (a study's participant flow) the result speaks no figures: a good
   * calibration is used at once, one worse than the model alone (or a failed fit) offers Redo at most
   * `maxRedos` times and then goes on with the model alone. Resolves "calibrated", "model" (go on
   * uncalibrated) or undefined (cancelled, or the camera stopped).
   */
  calibrate({ participant = false, maxRedos = 0 } = {}) {
    const { layout } = this.settings;
    const order = shuffled(layout);
    return this.session(order[0], (signal) => this.calibrationFlow(layout, order, signal, participant ? maxRedos : null));
  }

  /** The Record button: a moving dot whose positions label the frames; kept for the dataset download. */
  record() {
    return this.session(recordingPath(0, this.settings.margin), (signal) => this.recordingFlow(signal));
  }

  // One flow at a time, on the overlay, with the tracker's frames diverted
  // to this calibrator. Cancelling (or losing the camera) aborts the signal;
  // the flow then unwinds and nothing it collected is used. Up to the first
  // dot this runs synchronously inside the click, which fullscreen needs.
  session(firstDot, flow) {
    if (this.busy) return Promise.resolve();
    const controller = new AbortController();
    this.controller = controller;
    this.onBusy(true);
    const fullscreen = this.overlay.open(() => controller.abort());
    this.overlay.showDot(firstDot, 'settle', this.settings.settleMs);
    return this.run(controller, fullscreen, flow);
  }

  async run(controller, fullscreen, flow) {
    const { signal } = controller;
    let outcome;
    try {
      await untilAborted(fullscreen, signal);
      if (!this.tracker.active) await untilAborted(this.tracker.start(), signal);
      // A camera that cannot start ends the flow; the status line says why.
      if (!this.tracker.active) return;
      const release = this.tracker.divert((result, at) => this.sink?.(result, at));
      try {
        outcome = await flow(signal);
      } finally {
        release();
        this.sink = null;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      this.overlay.close();
      this.controller = null;
      this.onBusy(false);
    }
    return outcome;
  }

  // Abort the flow if the camera stopped (the tracker has already put the reason in the status line).
  checkCamera(signal) {
    if (!this.tracker.active) this.controller?.abort();
    signal.throwIfAborted();
  }

  // `order` is the first round's shuffled layout (its first dot is already showing); a redo shuffles again.
  // `maxRedos` is null for the researcher's result screen, else the participant's redos (see calibrate()).
  async calibrationFlow(layout, order, signal, maxRedos = null) {
    const checks = this.settings.checkLayout;
    for (let round = 0; ; round += 1) {
      const dots = round === 0 ? order : shuffled(layout);
      const fitFrames = await this.collectAll(dots, 'Look at the dot until it moves on', signal, 'fit');
      let calibration = null;
      let problem = null;
      try {
        calibration = await untilAborted(this.fit(fitFrames), signal);
      } catch (error) {
        if (signal.aborted) throw error;
        problem = error.message;
      }
      let checkFrames = [];
      if (calibration !== null) {
        checkFrames = await this.collectAll(shuffled(checks), 'Checking the accuracy: look at the dot', signal, 'check');
        calibration.summary.validation = validateMapping(calibration.mapping, checkFrames, screenSize(), this.context);
      }
      if (maxRedos !== null) {
        // A participant: a calibration that helps (or could not be checked) is used without a word.
        if (calibration !== null && calibrationQuality(calibration.summary, this.settings.poorError) !== 'worse') {
          this.accept(calibration, [...fitFrames, ...checkFrames]);
          return 'calibrated';
        }
        if (round >= maxRedos) return 'model';
        const choice = await untilAborted(this.overlay.showResult(participantResult(maxRedos - round)), signal);
        if (choice === 'accept') return 'model';
        continue;
      }
      const result = describeCalibration(calibration, problem, this.settings.poorError);
      const choice = await untilAborted(this.overlay.showResult(result), signal);
      if (choice === 'accept') {
        this.accept(calibration, [...fitFrames, ...checkFrames]);
        return 'calibrated';
      }
    }
  }

  // Show each dot in turn; every frame with a face while it collects is kept with its target.
  async collectAll(dots, label, signal, phase) {
    const frames = [];
    for (const [i, dot] of dots.entries()) {
      frames.push(...(await this.collectAt(dot, `${label} (${i + 1} of ${dots.length}) · Esc cancels`, signal, phase)));
    }
    return frames;
  }

  async collectAt(dot, label, signal, phase) {
    const { settleMs, collectMs } = this.settings;
    this.overlay.say(label);
    this.overlay.showDot(dot, 'settle', settleMs);
    await sleep(settleMs, signal);
    this.checkCamera(signal);
    // One target per dot: every frame of a dot then falls into the same
    // leave-one-target-out fold.
    const target = viewportToScreen(this.overlay.toViewport(dot), windowMetrics());
    const frames = [];
    this.sink = (result) => {
      if (result.face !== null) frames.push(calibrationFrame(result, target));
    };
    this.overlay.showDot(dot, 'collect');
    this.collecting = { dot, phase };
    try {
      await sleep(collectMs, signal);
      const deadline = performance.now() + NO_FACE_GRACE_MS;
      while (frames.length === 0 && performance.now() < deadline) {
        this.checkCamera(signal);
        this.overlay.say('No face in view: face the camera and look at the dot.');
        await sleep(100, signal);
      }
    } finally {
      this.sink = null;
      this.collecting = null;
    }
    return frames;
  }

  async recordingFlow(signal) {
    const { settleMs, recordSeconds, margin } = this.settings;
    const duration = recordSeconds * 1000;
    for (;;) {
      this.overlay.say(`Follow the dot with your eyes for ${recordSeconds} s · Esc cancels`);
      this.overlay.showDot(recordingPath(0, margin), 'settle', settleMs);
      await sleep(settleMs, signal);
      this.checkCamera(signal);
      const start = performance.now();
      const at = (time) => recordingPath(Math.min(Math.max(0, time - start), duration), margin);
      const frames = [];
      let seen = 0;
      // Each frame is labelled with where the dot was when the camera frame
      // was grabbed: the eyes pursue a smooth path, so they are on it.
      this.sink = ({ face, crop }, grabbedAt) => {
        seen += 1;
        if (face !== null) frames.push({ crop, target: viewportToScreen(this.overlay.toViewport(at(grabbedAt)), windowMetrics()) });
      };
      let animation = 0;
      const move = (now) => {
        this.overlay.showDot(at(now), 'follow');
        this.overlay.say(`Follow the dot · ${Math.max(0, Math.ceil((duration - (now - start)) / 1000))} s left · Esc cancels`);
        animation = requestAnimationFrame(move);
      };
      animation = requestAnimationFrame(move);
      try {
        await sleep(duration, signal);
        this.checkCamera(signal);
      } finally {
        cancelAnimationFrame(animation);
        this.sink = null;
      }
      const choice = await untilAborted(this.overlay.showResult(describeRecording(frames.length, seen, recordSeconds)), signal);
      if (choice === 'accept') {
        this.dataset.add(frames, 'recording');
        return;
      }
    }
  }
}
