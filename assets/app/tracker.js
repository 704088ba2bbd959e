// The live loop: camera frame -> pipeline -> smoothing -> viewport point -> heatmap, dot, sample log.

import { StateError, describeError } from './errors.js';
import { stopStream } from './camera.js';
import { screenToViewport, windowMetrics } from './coords.js';

// Weight of the newest frame in the frames/s average shown in the debug panel.
const FPS_SMOOTHING = 0.1;

export class Tracker {
  /**
   * `onState(state, message?)` hears every camera-side state change:
   * waiting-permission, no-face, running, stopped, camera-denied, no-camera, error.
   */
  constructor({ camera, pipeline, smoothing, heatmap, dot, samples, stats, debug, tf, backend, onState }) {
    Object.assign(this, { camera, pipeline, smoothing, heatmap, dot, samples, stats, debug, tf, backend, onState });
    // Every start/stop bumps the session number; late results of an older
    // session (a permission answer, an in-flight frame) are then ignored.
    this.session = 0;
    this.active = false;
    this.cancelFrame = null;
    this.lastFrameAt = 0;
    this.fps = 0;
    // Camera frames run through the pipeline since the page loaded (benchmarks read it).
    this.framesProcessed = 0;
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
        const result = await this.pipeline.run(image);
        if (session !== this.session) return;
        this.show(result, performance.now() - began);
      }
    } catch (error) {
      if (session === this.session) this.fail(error);
      return;
    } finally {
      this.stats.end();
    }
    this.schedule(session);
  }

  show({ face, crop, gaze }, ms) {
    const now = performance.now();
    this.framesProcessed += 1;
    if (this.lastFrameAt > 0) {
      const fps = 1000 / Math.max(1, now - this.lastFrameAt);
      this.fps = this.fps === 0 ? fps : this.fps + FPS_SMOOTHING * (fps - this.fps);
    }
    this.lastFrameAt = now;
    if (face === null) {
      this.dot.hide();
      this.onState('no-face');
    } else {
      const smoothed = this.smoothing.push(gaze);
      const { x, y } = screenToViewport(smoothed, windowMetrics());
      this.heatmap.add(x, y);
      this.dot.move(x, y);
      this.samples.add({ x, y, face }, now);
      this.onState('running');
    }
    if (this.debug.open) this.showDebug(face, crop, gaze, ms);
  }

  showDebug(face, crop, gaze, ms) {
    if (crop !== null) this.debug.showCrop(crop);
    this.debug.showValues({
      face: face === null ? 'none' : face.join(', '),
      gaze: gaze === null ? '–' : gaze.map((v) => v.toFixed(3)).join(', '),
      backend: this.backend,
      fps: this.fps.toFixed(1),
      ms: ms.toFixed(1),
      tensors: String(this.tf.memory().numTensors),
    });
  }
}
