// Entry point: wires the modules together and exposes window.gazesite.

import { backendOrder, readConfig, requestedBackend } from './config.js';
import { Camera } from './camera.js';
import { downloadText, downloadUrl } from './download.js';
import { StateError, describeError } from './errors.js';
import { Heatmap } from './heatmap.js';
import { checkLibraries, loadAll } from './loader.js';
import { FramePipeline } from './pipeline.js';
import { SampleLog } from './samples.js';
import { MovingAverage } from './smoothing.js';
import { Tracker } from './tracker.js';
import { DebugPanel, GazeDot, Status, bindControls, mountStats, showFrameRefused } from './ui.js';

const sessionStart = performance.now();
const $ = (id) => document.getElementById(id);

const status = new Status($('status'));
const app = { config: null, backend: null, pipeline: null, tracker: null, heatmap: null, samples: null };

const controls = bindControls(document, {
  start: () => app.tracker?.start(),
  stop: () => app.tracker?.stop(),
  clear: () => app.heatmap?.clear(),
  json: () => app.samples && downloadText('gazesite-samples.json', `${JSON.stringify(app.samples.toJSON(), null, 2)}\n`, 'application/json'),
  csv: () => app.samples && downloadText('gazesite-samples.csv', app.samples.toCSV(), 'text/csv'),
  png: () => app.heatmap && downloadUrl('gazesite-heatmap.png', app.heatmap.toDataURL()),
});

function setState(state, message) {
  status.set(state, message);
  controls.update(state, app.tracker !== null);
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
  const { cv, tf, h337, Stats } = globalThis;
  app.heatmap = new Heatmap(h337, $('heatmap'));
  const { backend, model, cascade } = await loadAll(config, backendOrder(requestedBackend(config)), (name, failed) => {
    app.backend = name;
    $('backend').textContent = name;
    if (failed.length > 0) $('backend').title = `TensorFlow.js backend (${failed.join(', ')} could not start)`;
  });
  const spec = config.pipeline;
  app.pipeline = new FramePipeline({ cv, tf, model, cascade, spec });
  app.tracker = new Tracker({
    camera: new Camera($('camera'), spec.camera_width, spec.camera_height),
    pipeline: app.pipeline,
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
 * {face: [x, y, w, h] | null, crop: number[] | null, gaze: [x, y] | null,
 * timings: {detection, preprocessing, inference} in ms};
 * gaze is the model's raw output for this frame alone.
 */
async function processFrame(imageData) {
  await ready;
  const { face, crop, gaze } = await app.pipeline.run(imageData);
  return { face, crop: crop && Array.from(crop), gaze, timings: { ...app.pipeline.timings } };
}

window.gazesite = Object.freeze({
  ready,
  processFrame,
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
