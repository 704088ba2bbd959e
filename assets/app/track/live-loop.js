// The live loop: camera frame -> pipeline -> calibration -> smoothing -> viewport point -> heatmap, dot, sample log.

import { StateError, describeError } from '../errors.js';
import { stopStream } from './camera.js';
import { screenToViewport, windowMetrics } from './coords.js';
import { FaceTracker } from './face-tracker.js';

// Weight of the newest frame in the frames/s average shown in the debug panel.
const FPS_SMOOTHING = 0.1;

export class LiveLoop {
  /**
   * `onState(state, message?)` hears every camera-side state change:
   * waiting-permission, no-face, running, stopped, camera-denied, no-camera, error.
   */
  constructor({ camera, pipeline, calibration, smoothing, heatmap, dot, samples, stats, debug, tf, backend, onState }) {
    Object.assign(this, { camera, pipeline, calibration, smoothing, heatmap, dot, samples, stats, debug, tf, backend, onState });
    // Every start/stop bumps the session number; late results of an older
    // session (a permission answer, an in-flight frame) are then ignored.
    this.session = 0;
    this.active = false;
    this.cancelFrame = null;
    this.lastFrameAt = 0;
    this.fps = 0;
    // Camera frames run through the pipeline since the page loaded (benchmarks read it).
    this.framesProcessed = 0;
    // While calibrating, frames go to this listener instead of the heatmap and the log.
    this.diverted = null;
    // Which point the smoothing window holds: "calibrated" or "model".
    this.source = null;
    // Follows the face from frame to frame, so most frames search only near it.
    this.faces = new FaceTracker(pipeline.spec);
    // The camera state of the last processed frame: running or no-face.
    this.frameState = null;
  }

  /**
   * Send every processed frame to `listener(result, grabbedAt, image)` (the
   * pipeline result, the performance.now() time the frame was grabbed and
   * its ImageData) instead of the heatmap, dot and sample log, until the
   * returned function is called; `message` is the running status meanwhile.
   * Calibration dots (and a study's screens before the page) are not where
   * the visitor looks at the target page, so nothing is logged.
   */
  divert(listener, message = 'Calibrating: look at the dots.') {
    this.diverted = listener;
    this.divertedMessage = message;
    this.dot.hide();
    return () => {
      if (this.diverted !== listener) return;
      this.diverted = null;
      // Points from before the calibration are stale by now.
      this.smoothing.reset();
      // Replace the "Calibrating" sentence at once rather than at the next frame.
      if (this.active && this.frameState !== null) this.onState(this.frameState);
    };
  }

  /** Ask for the camera and start tracking; failures end in a status, never a rejection. */
  async start() {
    if (this.active) return;
    this.active = true;
    const session = ++this.session;
    this.onState('waiting-permission');
    try {
      const stream = await this.camera.open();
      if (session !== this.session) {
        stopStream(stream);
        return;
      }
      await this.camera.attach(stream);
    } catch (error) {
      if (session === this.session) this.fail(error);
      return;
    }
    if (session !== this.session) return;
    this.camera.onEnded(() => {
      if (session === this.session) {
        this.fail(new StateError('no-camera', 'The camera stopped sending video: reconnect it, then press Start.'));
      }
    });
    this.smoothing.reset();
    this.faces.reset();
    this.frameState = null;
    this.lastFrameAt = 0;
    this.onState('no-face', 'Camera on: looking for a face…');
    this.schedule(session);
  }

  /** Stop tracking and release the camera (samples and heatmap stay). */
  stop() {
    if (!this.active) return;
    this.end();
    this.onState('stopped');
  }

  // Ends the session: late callbacks of it see a newer session number and do nothing.
  end() {
    this.session += 1;
    this.active = false;
    this.cancelFrame?.();
    this.cancelFrame = null;
    this.camera.close();
    this.dot.hide();
  }

  // Ends the session and shows why (a StateError names its own status).
  fail(error) {
    this.end();
    if (error instanceof StateError) this.onState(error.state, error.message);
    else this.onState('error', `Tracking stopped: ${describeError(error)}`);
  }

  schedule(session) {
    this.cancelFrame = this.camera.nextFrame(() => this.frame(session));
  }

  // One frame at a time: the next frame is requested only when this one is
  // done, so a slow backend drops camera frames instead of queueing them.
  async frame(session) {
    if (session !== this.session) return;
    const began = performance.now();
    this.stats.begin();
    try {
      const image = this.camera.grab();
      if (image !== null) {
        const result = await this.pipeline.run(image, this.faces);
        if (session !== this.session) return;
        this.show(result, performance.now() - began, began, image);
      }
    } catch (error) {
      if (session === this.session) this.fail(error);
      return;
    } finally {
      this.stats.end();
    }
    this.schedule(session);
  }

  show(result, ms, grabbedAt, image = null) {
    const { face, crop, gaze } = result;
    const now = performance.now();
    this.framesProcessed += 1;
    if (this.lastFrameAt > 0) {
      const fps = 1000 / Math.max(1, now - this.lastFrameAt);
      this.fps = this.fps === 0 ? fps : this.fps + FPS_SMOOTHING * (fps - this.fps);
    }
    this.lastFrameAt = now;
    const calibrated = this.calibration.apply(result);
    let sample = null;
    this.frameState = face === null ? 'no-face' : 'running';
    if (this.diverted !== null) {
      this.diverted(result, grabbedAt, image);
      this.onState(this.frameState, this.divertedMessage);
    } else if (face === null) {
      this.dot.hide();
      this.onState('no-face');
    } else {
      // The calibrated point, when there is one, takes the raw one's place
      // before smoothing; a change of source restarts the window, so
      // calibrated and raw points are never averaged together.
      const source = calibrated === null ? 'model' : 'calibrated';
      if (source !== this.source) this.smoothing.reset();
      this.source = source;
      const smoothed = this.smoothing.push(calibrated ?? gaze);
      const metrics = windowMetrics();
      const { x, y } = screenToViewport(smoothed, metrics);
      // This frame's own point, unsmoothed, for fixation detection (samples v2 `raw`).
      const raw = screenToViewport(calibrated ?? gaze, metrics);
      // The log reads the viewport and scroll offsets: before the dot's style
      // changes, or every frame would force a synchronous layout.
      sample = this.samples.add({ x, y, raw: [raw.x, raw.y], face, source }, now);
      this.heatmap.add(x, y, sample);
      this.dot.move(x, y);
      this.onState('running');
    }
    if (this.debug.open) this.showDebug(face, crop, gaze, calibrated, ms, sample);
  }

  showDebug(face, crop, gaze, calibrated, ms, sample) {
    const point = (p) => (p === null ? '–' : p.map((v) => v.toFixed(3)).join(', '));
    if (crop !== null) this.debug.showCrop(crop);
    this.debug.showValues({
      face: face === null ? 'none' : face.join(', '),
      gaze: point(gaze),
      calibrated: point(calibrated),
      backend: this.backend,
      fps: this.fps.toFixed(1),
      ms: ms.toFixed(1),
      tensors: String(this.tf.memory().numTensors),
      doc: sample?.doc ? `${sample.page} ${sample.doc.map((v) => v.toFixed(0)).join(', ')}` : '–',
      element: sample?.element ?? '–',
    });
  }
}
