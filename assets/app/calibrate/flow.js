// The calibration and recording flows: dots on the overlay, camera frames
// from the tracker, then the fit, the validation and the result screen.
// gazesite.calibrate() and the Calibrate button share fit() and accept().

import { fitCalibration, validateMapping } from './choose.js';
import { finetuneCandidate } from './finetune.js';
import { viewportToScreen, windowMetrics } from '../track/coords.js';
import { recordingPath, shuffled } from './dots.js';

// A dot that saw no face while collecting stays up this much longer (with a
// hint) before the flow moves on without it.
const NO_FACE_GRACE_MS = 4000;

/** Defines the error figures; shown as hover text on every figure. */
export const ERROR_DEFINITION =
  'Mean Euclidean distance between each dot and the gaze estimated on the frames taken while it was shown. ' +
  'px: screen pixels. % of the screen: the same distance in fractions of the screen width and height, times 100.';

/** The screen size (CSS px) that turns screen fractions into px. */
export function screenSize() {
  return { width: screen.width, height: screen.height };
}

/** "84 px (6.6% of the screen)" for an error in screen fractions and in px. */
export function formatError(fraction, px) {
  if (!Number.isFinite(fraction)) return 'not measured';
  return `${Math.round(px)} px (${(fraction * 100).toFixed(1)}% of the screen)`;
}

const METHOD_NAMES = {
  affine: () => "an affine correction of the model's output",
  features: ({ lambda }) => `a ridge regression on the model's features (λ = ${lambda})`,
  eyes: ({ lambda }) => `a ridge regression on your eye region (λ = ${lambda} of its scale)`,
  'eyes+features': ({ lambda, weight }) =>
    `a ridge regression on your eye region and the model's features (share ${weight}, λ = ${lambda})`,
  finetune: () => "the model's last layers fine-tuned on your frames",
};

function describeMethod(summary) {
  return (METHOD_NAMES[summary.method] ?? (() => summary.method))(summary);
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

  /** The Calibrate button: dots, fit, validation dots, result screen; accept activates, cancel changes nothing. */
  calibrate() {
    const { layout } = this.settings;
    const order = shuffled(layout);
    return this.session(order[0], (signal) => this.calibrationFlow(layout, order, signal));
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
    try {
      await untilAborted(fullscreen, signal);
      if (!this.tracker.active) await untilAborted(this.tracker.start(), signal);
      // A camera that cannot start ends the flow; the status line says why.
      if (!this.tracker.active) return;
      const release = this.tracker.divert((result, at) => this.sink?.(result, at));
      try {
        await flow(signal);
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
  }

  // Abort the flow if the camera stopped (the tracker has already put the reason in the status line).
  checkCamera(signal) {
    if (!this.tracker.active) this.controller?.abort();
    signal.throwIfAborted();
  }

  // `order` is the first round's shuffled layout (its first dot is already showing); a redo shuffles again.
  async calibrationFlow(layout, order, signal) {
    const checks = this.settings.checkLayout;
    for (let round = 0; ; round += 1) {
      const dots = round === 0 ? order : shuffled(layout);
      const fitFrames = await this.collectAll(dots, 'Look at the dot until it moves on', signal);
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
        checkFrames = await this.collectAll(shuffled(checks), 'Checking the accuracy: look at the dot', signal);
        calibration.summary.validation = validateMapping(calibration.mapping, checkFrames, screenSize(), this.context);
      }
      const result = describeCalibration(calibration, problem, this.settings.poorError);
      const choice = await untilAborted(this.overlay.showResult(result), signal);
      if (choice === 'accept') {
        this.accept(calibration, [...fitFrames, ...checkFrames]);
        return;
      }
    }
  }

  // Show each dot in turn; every frame with a face while it collects is kept with its target.
  async collectAll(dots, label, signal) {
    const frames = [];
    for (const [i, dot] of dots.entries()) {
      frames.push(...(await this.collectAt(dot, `${label} (${i + 1} of ${dots.length}) · Esc cancels`, signal)));
    }
    return frames;
  }

  async collectAt(dot, label, signal) {
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

// The result screen of a calibration (or of a fit that failed). A check
// error above `poorError` (screen fractions, from the build) gets a warning
// and puts Redo first, before the person can accept a poor mapping unawares.
function describeCalibration(calibration, problem, poorError) {
  if (calibration === null) {
    return {
      title: 'Calibration failed',
      lines: [{ text: `${problem}.` }, { text: 'Face the camera, keep your head still, look at each dot, then press Redo.' }],
      acceptLabel: 'Use this calibration',
      redoLabel: 'Redo',
      canAccept: false,
    };
  }
  const { summary } = calibration;
  const check = summary.validation;
  const lines =
    check.samples > 0
      ? [
          { text: `Mean error on ${check.points} check points: ${formatError(check.error, check.errorPx)}.`, title: ERROR_DEFINITION },
          { text: `Before calibration (the model alone): ${formatError(check.rawError, check.rawErrorPx)}.`, title: ERROR_DEFINITION },
        ]
      : [{ text: 'No face was seen at the check points, so the accuracy could not be measured.' }];
  lines.push({
    text:
      `Fitted on ${summary.points} points (${summary.samples} frames) with ${describeMethod(summary)}: ` +
      `the best of the candidates in leave-one-point-out cross-validation, at ${formatError(summary.cvError, summary.cvErrorPx)}.`,
    title: ERROR_DEFINITION,
  });
  const poor = check.samples > 0 && check.error > poorError;
  if (poor) {
    lines.unshift({
      text:
        `The check error is above ${(poorError * 100).toFixed(0)}% of the screen: gaze points will land far from where you look. ` +
        'Redo, with your head still, your face well lit and each dot followed with your eyes.',
      warning: true,
    });
  }
  return {
    title: poor ? 'Calibration result: poor accuracy' : 'Calibration result',
    lines,
    acceptLabel: 'Use this calibration',
    redoLabel: 'Redo',
    canAccept: true,
    recommendRedo: poor,
  };
}

// The result screen of a recording.
function describeRecording(kept, seen, seconds) {
  const lines =
    kept > 0
      ? [
          { text: `Recorded ${kept} frames with a face (of ${seen}) in ${seconds} s.` },
          { text: 'Keep them for the dataset download, or record again.' },
        ]
      : [{ text: `No face was seen in ${seen} frames: face the camera and record again.` }];
  return { title: 'Recording done', lines, acceptLabel: 'Keep', redoLabel: 'Record again', canAccept: kept > 0 };
}
