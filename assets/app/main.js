// Entry point: wires the modules together and exposes window.gazesite.

import { backendOrder, readConfig, requestedBackend } from './load/config.js';
import { Calibrator, ERROR_DEFINITION, screenSize } from './calibration/flow.js';
import { eyeFeatureCount, layoutOf } from './calibration/eyes.js';
import { readHead } from './calibration/finetune.js';
import { CalibrationOverlay } from './calibration/overlay.js';
import { CalibrationStore } from './calibration/store.js';
import { Camera } from './track/camera.js';
import { CollectStatus, ConsentGate } from './collect/consent.js';
import { Sender, sessionMeta } from './collect/sender.js';
import { Dataset } from './output/dataset.js';
import { downloadText, downloadUrl } from './output/download.js';
import { StateError, describeError } from './errors.js';
import { Heatmap } from './output/heatmap.js';
import { checkLibraries, loadAll } from './load/libraries.js';
import { FaceTracker } from './track/face-tracker.js';
import { FramePipeline } from './track/pipeline.js';
import { SampleLog } from './output/samples.js';
import { MovingAverage } from './track/smoothing.js';
import { LiveLoop } from './track/live-loop.js';
import { bindCalibrationControls, bindControls } from './ui/controls.js';
import { DebugPanel, mountStats } from './ui/debug.js';
import { GazeDot } from './ui/gaze-dot.js';
import { CalibrationStatus, Status, showFrameRefused } from './ui/status.js';
import { DocumentHeatmap } from './study/docheatmap.js';
import { createView } from './study/view.js';
import { participantId, participantWording } from './study/participant.js';
import { ParticipantFlow } from './study/participant-flow.js';

const sessionStart = performance.now();
// What a participant's page draws instead of the heatmap and the gaze dot: nothing.
const NO_HEATMAP = Object.freeze({ add: () => {}, clear: () => {}, toDataURL: () => 'data:,' });
const NO_DOT = Object.freeze({ move: () => {}, hide: () => {} });
const $ = (id) => document.getElementById(id);

const status = new Status($('status'));
const calibrationStatus = new CalibrationStatus($('calibration-status'));
const app = {
  config: null,
  backend: null,
  pipeline: null,
  tracker: null,
  heatmap: null,
  samples: null,
  calibration: null,
  calibrator: null,
  dataset: null,
  view: null,
  consent: null,
  sender: null,
  flow: null,
};
// Without --collect nothing leaves the device and no consent is asked; with it, nothing starts before consent.
const consented = () => app.consent === null || app.consent.allowed;

const controls = bindControls(document, {
  start: () => (consented() ? app.tracker?.start() : app.consent?.show()),
  stop: () => app.tracker?.stop(),
  clear: () => app.heatmap?.clear(),
  json: () =>
    app.samples && downloadText('gazesite-samples.json', `${JSON.stringify(app.samples.toJSON(), null, 2)}\n`, 'application/json'),
  csv: () => app.samples && downloadText('gazesite-samples.csv', app.samples.toCSV(), 'text/csv'),
  png: () => app.heatmap && downloadUrl('gazesite-heatmap.png', app.heatmap.toDataURL()),
});

const calibrationControls = bindCalibrationControls(document, {
  calibrate: () => app.calibrator?.calibrate(),
  record: () => app.calibrator?.record(),
  reset: () => app.calibration?.reset(),
  dataset: () =>
    app.dataset?.count > 0 &&
    downloadText('gazesite-dataset.json', `${JSON.stringify(app.dataset.toJSON(screenSize()))}\n`, 'application/json'),
});

function setState(state, message) {
  status.set(state, message);
  controls.update(state, app.tracker !== null);
}

// The calibration buttons and status follow the calibration, the kept crops and any running flow.
function updateCalibrationControls() {
  calibrationControls.update({
    loaded: app.calibrator !== null && consented(),
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
  calibrationStatus.poorError = config.calibration.poorError;
  // A study build shows participants the page alone (study/participant-flow.js); --researcher-view and other builds show everything.
  const participantView = config.participant.flow;
  // The mode shows in the status line and the debug panel at once, before the model has loaded.
  const debug = new DebugPanel(document);
  const showMode = (label, problem = null) => {
    $('mode').textContent = problem ? `${label}: ${problem}` : label;
    $('mode').dataset.problem = String(problem !== null);
    debug.showValues({ mode: label });
  };
  app.view = createView(config.study, document, {
    onChange: (label) => showMode(label),
    onProblem: (problem) => showMode(app.view.label(), problem),
  });
  showMode(app.view.label());
  app.samples = new SampleLog({
    format: config.sampleFormat,
    target: config.target,
    sessionStart,
    view: app.view,
    study: config.study?.name ?? null,
    calibration: () => app.calibration?.summary ?? null,
    participant: participantId(location.search, config.participant),
  });
  if (participantView) {
    status.wording = participantWording;
    app.flow = new ParticipantFlow(document, { settings: config.participant, app, status, panel: $('panel') });
  }
  if (config.collect) askConsent(config);
  if (config.frameable === false) {
    status.refuseFrame(config.frameReason);
    showFrameRefused($('frame-refused'), config.frameReason);
  }
  checkLibraries();
  const { tf, h337, Stats } = globalThis;
  if (participantView) {
    app.heatmap = NO_HEATMAP; // nothing is drawn over the page a participant looks at
  } else {
    const heatmap = new Heatmap(h337, $('heatmap'));
    // Snapshot and same-origin pages scroll under the heatmap: it is kept in document px and scrolls with them.
    app.heatmap = app.view.mode === 'frame' ? heatmap : new DocumentHeatmap(heatmap, app.view);
  }
  const { backend, model, cascade, cv } = await loadAll(config, backendOrder(requestedBackend(config), config.backends), (name, failed) => {
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
    cropSize: spec.crop_size,
    pipelineVersion: spec.version,
    modelHash: config.model.hash ?? null,
    onChange: updateCalibrationControls,
  });
  app.tracker = new LiveLoop({
    camera: new Camera($('camera'), spec.camera_width, spec.camera_height),
    pipeline: app.pipeline,
    calibration: app.calibration,
    smoothing: new MovingAverage(config.smoothing),
    heatmap: app.heatmap,
    dot: participantView ? NO_DOT : new GazeDot($('gaze-dot')),
    samples: app.samples,
    stats: mountStats(Stats, $('stats')),
    debug,
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
  if (!consented()) setState(app.consent.decision ?? 'consent');
  else if (app.flow) app.flow.begin();
  else app.tracker.start();
}

// The consent notice (shown at once, while the libraries load); accepting starts sending and the camera.
function askConsent(config) {
  const collectStatus = new CollectStatus($('collect-status'), new URL(config.collect.url).host);
  app.consent = new ConsentGate(document, {
    onAccept: () => {
      app.sender = new Sender({
        settings: config.collect,
        session: app.samples.session,
        samples: () => app.samples.samples,
        meta: () => sessionMeta(app.samples.toJSON()),
        onChange: (state) => collectStatus.show(state),
      });
      app.sender.start();
      updateCalibrationControls();
      // Before the model has loaded, boot() starts the camera (or the flow) once it has.
      if (app.tracker === null) app.flow?.loading();
      else if (app.flow) app.flow.begin();
      else app.tracker.start();
    },
    onDecline: () => {
      app.flow?.declined();
      collectStatus.declined(Sender.discard(config.collect));
      if (app.tracker !== null) setState('declined');
    },
  });
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

/**
 * Tests only: while the calibration flow keeps frames at a dot, the camera hands it these instead of the
 * video's. `frames` is [{dot: [x, y] (as in config.calibration.layout or checkLayout), phase: "fit" |
 * "check", images: [ImageData]}]; each dot's images repeat in turn. The flow on screen stays the real one.
 */
async function feedCalibration(frames) {
  await ready;
  const turns = new Map();
  app.tracker.camera.source = () => {
    const at = app.calibrator.collecting;
    const entry =
      at && frames.find(({ dot, phase }) => phase === at.phase && Math.abs(dot[0] - at.dot[0]) + Math.abs(dot[1] - at.dot[1]) < 1e-9);
    if (!entry) return null;
    const turn = turns.get(entry) ?? 0;
    turns.set(entry, turn + 1);
    return entry.images[turn % entry.images.length];
  };
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
    return consented() ? app.tracker.start() : app.consent.show();
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
  /** What the page shows: "frame", "snapshot" or "same-origin". */
  get mode() {
    return app.view?.mode ?? null;
  },
  /** A study build's participant flow: {phase, id} (phase: consent, loading, guide, calibration, task, page, end); else null. */
  get participant() {
    return app.flow && { phase: app.flow.phase, id: app.samples?.participant ?? null };
  },
  feedCalibration,
  /** With --collect: {consent: null | 'accepted' | 'declined', session, sentBatches, sentSamples, pending, ...}; else null. */
  get collect() {
    return app.consent && { consent: app.consent.decision, ...(app.sender?.status ?? {}) };
  },
});
