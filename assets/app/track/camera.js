// The webcam: permission, the stream, and frames as RGBA ImageData of the pipeline's camera size.

import { StateError, describeError } from '../errors.js';
import { MESSAGES } from '../messages.js';

/** Map a getUserMedia failure to the status it should show. */
export function cameraError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new StateError('camera-denied', MESSAGES['camera-denied']);
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new StateError('no-camera', MESSAGES['no-camera']);
    default:
      return new StateError('error', `The camera could not start: ${describeError(error)}`);
  }
}

/** Stop every track of a stream (releases the camera and its light). */
export function stopStream(stream) {
  for (const track of stream.getTracks()) track.stop();
}

export class Camera {
  constructor(video, width, height) {
    this.video = video;
    this.width = width;
    this.height = height;
    this.stream = null;
    // willReadFrequently keeps the canvas in CPU memory: getImageData every
    // frame is then a copy, not a GPU readback.
    this.canvas =
      typeof OffscreenCanvas === 'function'
        ? new OffscreenCanvas(width, height)
        : Object.assign(document.createElement('canvas'), { width, height });
    this.context = this.canvas.getContext('2d', { willReadFrequently: true });
    // Tests only (window.gazesite.feedCalibration): returns an ImageData to use instead of the video frame, or null.
    this.source = null;
  }

  /** Ask for the camera; resolves with a MediaStream or rejects with a StateError. */
  async open() {
    const media = navigator.mediaDevices;
    if (!media?.getUserMedia) {
      throw new StateError(
        'no-camera',
        window.isSecureContext
          ? 'This browser offers no camera access.'
          : 'The camera needs a secure page: open the site over https:// or http://localhost.',
      );
    }
    // "ideal" rather than exact sizes: a camera without 320x240 still starts,
    // and grab() scales its frames to the pipeline's size.
    const video = { width: { ideal: this.width }, height: { ideal: this.height }, facingMode: 'user' };
    try {
      return await media.getUserMedia({ audio: false, video });
    } catch (error) {
      throw cameraError(error);
    }
  }

  /** Show a stream in the video element and wait until it plays. */
  async attach(stream) {
    this.stream = stream;
    this.video.srcObject = stream;
    await this.video.play();
  }

  /** Release the camera. */
  close() {
    if (this.stream) stopStream(this.stream);
    this.stream = null;
    this.video.srcObject = null;
  }

  /** Call `listener` once if the camera stops on its own (unplugged, taken by another app). */
  onEnded(listener) {
    const [track] = this.stream?.getVideoTracks() ?? [];
    track?.addEventListener('ended', listener, { once: true });
  }

  /**
   * Call `callback` at the next new video frame; returns a cancel function.
   * requestVideoFrameCallback fires once per camera frame; the fallback,
   * requestAnimationFrame, fires per display frame.
   */
  nextFrame(callback) {
    const { video } = this;
    if (typeof video.requestVideoFrameCallback === 'function') {
      const id = video.requestVideoFrameCallback(() => callback());
      return () => video.cancelVideoFrameCallback(id);
    }
    const id = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(id);
  }

  /**
   * The current frame as RGBA ImageData of the pipeline's camera size. A
   * camera of that size is copied 1:1; another size is scaled to cover it,
   * cut centred, so faces keep their proportions and the size the cascade
   * and the model were tuned for. Returns null until the video has a size.
   */
  grab() {
    const { video, width, height } = this;
    if (video.videoWidth === 0 || video.videoHeight === 0) return null;
    const fed = this.source?.() ?? null;
    if (fed !== null) return fed;
    const scale = Math.max(width / video.videoWidth, height / video.videoHeight);
    const sourceWidth = width / scale;
    const sourceHeight = height / scale;
    this.context.drawImage(
      video,
      (video.videoWidth - sourceWidth) / 2,
      (video.videoHeight - sourceHeight) / 2,
      sourceWidth,
      sourceHeight,
      0,
      0,
      width,
      height,
    );
    return this.context.getImageData(0, 0, width, height);
  }
}
