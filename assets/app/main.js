// Entry point: wires the modules together and exposes window.gazesite.

import { backendOrder, readConfig, requestedBackend } from './config.js';
import { Calibrator, ERROR_DEFINITION, screenSize } from './calibrate/flow.js';
import { eyeFeatureCount, layoutOf } from './calibrate/eyes.js';
import { readHead } from './calibrate/finetune.js';
import { CalibrationOverlay } from './calibrate/overlay.js';
import { CalibrationStore } from './calibrate/store.js';
import { Camera } from './camera.js';
import { Dataset } from './dataset.js';
import { downloadText, downloadUrl } from './download.js';
import { StateError, describeError } from './errors.js';
import { Heatmap } from './heatmap.js';
import { checkLibraries, loadAll } from './loader.js';
import { FaceTracker, FramePipeline } from './pipeline.js';
import { SampleLog } from './samples.js';
import { MovingAverage } from './smoothing.js';
import { Tracker } from './tracker.js';
import {
  CalibrationStatus, DebugPanel, GazeDot, Status, bindCalibrationControls, bindControls, mountStats, showFrameRefused,
} from './ui.js';

const sessionStart = performance.now();
const $ = (id) => document.getElementById(id);

const status = new Status($('status'));
const calibrationStatus = new CalibrationStatus($('calibration-status'));
const app = {
  config: null, backend: null, pipeline: null, tracker: null, heatmap: null, samples: null,
  calibration: null, calibrator: null, dataset: null,
};

const controls = bindControls(document, {
  start: () => app.tracker?.start(),
  stop: () => app.tracker?.stop(),
  clear: () => app.heatmap?.clear(),
  json: () => app.samples && downloadText('gazesite-samples.json', `${JSON.stringify(app.samples.toJSON(), null, 2)}\n`, 'application/json'),
  csv: () => app.samples && downloadText('gazesite-samples.csv', app.samples.toCSV(), 'text/csv'),
  png: () => app.heatmap && downloadUrl('gazesite-heatmap.png', app.heatmap.toDataURL()),
});

const calibrationControls = bindCalibrationControls(document, {
  calibrate: () => app.calibrator?.calibrate(),
  record: () => app.calibrator?.record(),
  reset: () => app.calibration?.reset(),
  dataset: () => app.dataset?.count > 0
    && downloadText('gazesite-dataset.json', `${JSON.stringify(app.dataset.toJSON(screenSize()))}\n`, 'application/json'),
});

function setState(state, message) {
  status.set(state, message);
  controls.update(state, app.tracker !== null);
}

// The calibration buttons and status follow the calibration, the kept crops and any running flow.
function updateCalibrationControls() {
  calibrationControls.update({
    loaded: app.calibrator !== null,
    busy: app.calibrator?.busy ?? false,
    calibrated: app.calibration?.summary != null,
    kept: app.dataset?.count ?? 0,
  });
}

function calibrationChanged(summary) {
  calibrationStatus.show(summary, ERROR_DEFINITION);
  status.setCalibrated(summary !== null);
  updateCalibrationControls();
}

// Loads everything, then starts the camera. The state is settled (loading
// -> waiting-permission, or frame-refused) before `ready` resolves, so a
// caller awaiting `ready` sees a deterministic state.
async function boot() {
  const config = readConfig();
  app.config = config;
  app.samples = new SampleLog({ format: config.sampleFormat, target: config.target, sessionStart });
  if (config.frameable === false) {
    status.refuseFrame(config.frameReason);
    showFrameRefused($('frame-refused'), config.frameReason);
  }
  checkLibraries();
  const { tf, h337, Stats } = globalThis;
  app.heatmap = new Heatmap(h337, $('heatmap'));
  const { backend, model, cascade, cv } = await loadAll(config, backendOrder(requestedBackend(config)), (name, failed) => {
    app.backend = name;
    $('backend').textContent = name;
    if (failed.length > 0) $('backend').title = `TensorFlow.js backend (${failed.join(', ')} could not start)`;
  });
  const spec = config.pipeline;
  app.pipeline = new FramePipeline({ cv, tf, model, cascade, spec });
  // Restored before `ready` resolves, so the first frame is already calibrated.
  // The calibration maths' constants (from the build) and the eye band's layout, shared by fitting and applying.
  const context = { settings: config.calibration.maths, layout: layoutOf(spec) };
  app.calibration = new CalibrationStore({
    modelHash: config.model.hash,
    widths: {
      features: app.pipeline.featureCount,
      trunk: app.pipeline.trunkCount,
      eyes: eyeFeatureCount(context.layout),
      eyeReference: spec.eyes_width * spec.eyes_height,
    },
    context,
    onChange: calibrationChanged,
  });
  app.calibration.restore();
  app.dataset = new Dataset({
    format: config.datasetFormat,
    cropSize: spec.crop_size, pipelineVersion: spec.version, modelHash: config.model.hash ?? null, onChange: updateCalibrationControls,
  });
  app.tracker = new Tracker({
    camera: new Camera($('camera'), spec.camera_width, spec.camera_height),
    pipeline: app.pipeline,
    calibration: app.calibration,
    smoothing: new MovingAverage(config.smoothing),
    heatmap: app.heatmap,
    dot: new GazeDot($('gaze-dot')),
    samples: app.samples,
    stats: mountStats(Stats, $('stats')),
    debug: new DebugPanel(document),
    tf,
    backend,
    onState: setState,
  });
  // The fine-tuning candidate needs the head's weights and the activations feeding it.
  const head = app.pipeline.trunkCount > 0 ? readHead(model) : null;
  app.calibrator = new Calibrator({
    tracker: app.tracker,
    pipeline: app.pipeline,
    overlay: new CalibrationOverlay(document),
    store: app.calibration,
    dataset: app.dataset,
    settings: config.calibration,
    context,
    finetune: head && { tf, head },
    onBusy: updateCalibrationControls,
  });
  updateCalibrationControls();
  app.tracker.start();
}

const ready = boot().catch((error) => {
  if (error instanceof StateError) setState(error.state, error.message);
  else setState('error', `gazesite could not start: ${describeError(error)}`);
  throw error;
});
// The status line reports a failed start; this keeps it from also being an
// unhandled rejection, while callers awaiting `ready` still see it.
ready.catch(() => {});

// Last resort, so a bug never leaves the page stalled without a word.
window.addEventListener('error', (event) => setState('error', `Unexpected error: ${describeError(event.error ?? event.message)}`));
window.addEventListener('unhandledrejection', (event) => setState('error', `Unexpected error: ${describeError(event.reason)}`));

/**
 * Run the pipeline on one RGBA ImageData, as the live loop does, without
 * touching the heatmap or the sample log. Resolves with
 * {face: [x, y, w, h] | null, crop: number[] | null, eyes: number[] | null (the
 * eye band the calibration reads), gaze: [x, y] | null, calibrated: [x, y] | null,
 * timings: {detection, preprocessing, inference, calibration} in ms};
 * gaze is the model's raw output for this frame alone, calibrated the
 * active calibration's point for it (null without a calibration or a face).
 */
async function processFrame(imageData) {
  await ready;
  return describeResult(await app.pipeline.run(imageData));
}

/**
 * Run a sequence of frames as the live loop does, following the face from
 * frame to frame (a fresh FaceTracker per call, so calls do not affect each
 * other or the live loop). Resolves with one processFrame-shaped result per frame.
 */
async function trackFrames(images) {
  await ready;
  const tracker = new FaceTracker(app.pipeline.spec);
  const results = [];
  for (const image of images) results.push(describeResult(await app.pipeline.run(image, tracker)));
  return results;
}

// A pipeline result as the test API hands it out: plain arrays, the calibrated point, the stage timings.
function describeResult(result) {
  const { face, crop, eyes, gaze } = result;
  const began = performance.now();
  const calibrated = app.calibration.apply(result);
  const timings = { ...app.pipeline.timings, calibration: performance.now() - began };
  return { face, crop: crop && Array.from(crop), eyes: eyes && Array.from(eyes), gaze, calibrated, timings };
}

/**
 * Calibrate from given frames instead of the camera: `samples` is an array
 * of {image: ImageData, target: [x, y]} (target in 0..1 of the screen).
 * Frames with a face are fitted exactly as the Calibrate button's are, and
 * the result is activated and stored as accepting it would. Resolves with
 * {samples, points, method, lambda, fitError, cvError, ...} (errors: mean
 * Euclidean distance in screen fractions); rejects with an Error when fewer
 * than 3 distinct targets have a face.
 */
async function calibrate(samples) {
  await ready;
  return app.calibrator.calibrateImages(samples);
}

window.gazesite = Object.freeze({
  ready,
  processFrame,
  trackFrames,
  calibrate,
  /** Forget the calibration (memory and storage); gaze is raw again. */
  resetCalibration: async () => {
    await ready;
    app.calibration.reset();
  },
  /** The active calibration's summary, or null. */
  get calibration() {
    return app.calibration?.summary ?? null;
  },
  start: async () => {
    await ready;
    return app.tracker.start();
  },
  stop: () => app.tracker?.stop(),
  get backend() {
    return app.backend;
  },
  get samples() {
    return app.samples?.samples ?? [];
  },
  get framesProcessed() {
    return app.tracker?.framesProcessed ?? 0;
  },
  get state() {
    return status.state;
  },
  get config() {
    return app.config;
  },
});
