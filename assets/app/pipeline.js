// The frame pipeline, browser twin of gazesite/pipeline.py: same steps, same
// constants (read from the build's config), same order, so a frame gives the
// same face box and the same crop bytes on both sides.

/**
 * Pick the largest face; ties go to the smallest y, then the smallest x.
 * OpenCV's rectangle order differs between runs and between Python and JS,
 * so "the first face" would not be reproducible. Returns [x, y, w, h] or null.
 */
export function pickFace(faces, offsetX = 0, offsetY = 0) {
  let best = null;
  for (let i = 0; i < faces.size(); i += 1) {
    const face = faces.get(i);
    if (best === null || isBetterFace(face, best)) best = face;
  }
  // The offset places a face found in a region of the frame; adding the same
  // offset to every rectangle leaves the choice unchanged.
  return best && [best.x + offsetX, best.y + offsetY, best.width, best.height];
}

/**
 * Where to look for the face in a stream of frames: the twin of
 * gazesite.pipeline.FaceTracker, step for step, so a sequence of frames
 * gives the same boxes in Python and here. After a face is found, only the
 * region around it is searched, for faces of similar size (the cascade's
 * small windows are its costliest work), and the whole frame again every
 * `track_full_search_every` frames or as soon as the face is lost.
 */
export class FaceTracker {
  constructor(spec) {
    this.spec = spec;
    this.reset();
  }

  /** Forget the face: the next frame gets a full search. */
  reset() {
    this.last = null;
    this.trackedFrames = 0;
  }

  /** True when the next frame may search near the last face only. */
  get tracking() {
    return this.last !== null && this.trackedFrames < this.spec.track_full_search_every;
  }

  /** The region [x, y, w, h] to search and the face sizes [low, high] to accept, from the last face. */
  searchWindow(width, height) {
    const { spec } = this;
    const [x, y, w, h] = this.last;
    const margin = Math.floor(w * spec.track_margin);
    const x0 = Math.max(0, x - margin);
    const y0 = Math.max(0, y - margin);
    const x1 = Math.min(width, x + w + margin);
    const y1 = Math.min(height, y + h + margin);
    const low = Math.max(spec.min_face_size, Math.floor(w * spec.track_min_scale));
    const high = Math.max(low, Math.ceil(w * spec.track_max_scale));
    return { region: [x0, y0, x1 - x0, y1 - y0], low, high };
  }

  /** Remember the outcome of a frame: found near the last face, or by a full search. */
  update(face, fullSearch) {
    this.last = face;
    this.trackedFrames = fullSearch ? 0 : this.trackedFrames + 1;
  }
}

function isBetterFace(a, b) {
  const areaA = a.width * a.height;
  const areaB = b.width * b.height;
  if (areaA !== areaB) return areaA > areaB;
  if (a.y !== b.y) return a.y < b.y;
  return a.x < b.x;
}

/**
 * The model seen through two outputs: the penultimate layer's activations
 * (the calibration's features) and the gaze. The same layers and weights run
 * in the same order, so the gaze is the one `model.predict` gives, and one
 * call yields both. "Penultimate" is by position, not by name, so any
 * model whose last layer maps features to the gaze works. Returns null when
 * the model has no such layer (a single layer, or one reused in several
 * places has no single output): calibration then maps the gaze alone.
 */
export function withFeatures(tf, model) {
  const penultimate = model.layers[model.layers.length - 2];
  try {
    return penultimate ? tf.model({ inputs: model.inputs, outputs: [penultimate.output, model.outputs[0]] }) : null;
  } catch {
    return null;
  }
}

/** RGBA frame -> face box -> crop -> gaze (and features), reusing its OpenCV buffers from frame to frame. */
export class FramePipeline {
  constructor({ cv, tf, model, cascade, spec }) {
    this.cv = cv;
    this.tf = tf;
    this.model = withFeatures(tf, model) ?? model;
    // Activations per frame of the penultimate layer (its shape without the batch axis, multiplied out).
    this.featureCount = this.model === model ? 0 : this.model.outputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
    this.cascade = cascade;
    this.spec = spec;
    const grid = spec.clahe_tile_grid;
    this.clahe = new cv.CLAHE(spec.clahe_clip_limit, new cv.Size(grid, grid));
    this.minSize = new cv.Size(spec.min_face_size, spec.min_face_size);
    this.maxSize = new cv.Size(0, 0);
    this.cropSize = new cv.Size(spec.crop_size, spec.crop_size);
    // Reused buffers: OpenCV reallocates an output Mat only when its size or
    // type changes, so steady frames allocate nothing on the wasm heap.
    this.rgba = null;
    this.gray = new cv.Mat();
    this.faces = new cv.RectVector();
    this.small = new cv.Mat();
    this.equalized = new cv.Mat();
    this.crop = new cv.Mat();
    // Milliseconds per stage of the last frame, for benchmarks and the debug panel.
    this.timings = { detection: 0, preprocessing: 0, inference: 0 };
  }

  /**
   * Find the face and cut its crop (synchronous, OpenCV only). Without a
   * tracker every frame gets a full search (processFrame); with one, the
   * search follows the face (the live loop).
   * Returns {face: [x, y, w, h], crop: Uint8Array} or {face: null, crop: null}.
   */
  detect(image, tracker = null) {
    const { cv, spec } = this;
    const { width, height, data } = image;
    if (!Number.isInteger(width) || !Number.isInteger(height) || data?.length !== width * height * 4) {
      throw new TypeError('processFrame expects RGBA ImageData (width * height * 4 bytes)');
    }
    // Same as cv.matFromImageData, but keeps the Mat while the frame size holds.
    if (this.rgba === null || this.rgba.cols !== width || this.rgba.rows !== height) {
      this.rgba?.delete();
      this.rgba = new cv.Mat(height, width, cv.CV_8UC4);
    }
    const began = performance.now();
    this.rgba.data.set(data);
    cv.cvtColor(this.rgba, this.gray, cv.COLOR_RGBA2GRAY);
    const face = tracker === null ? this.searchAll() : this.follow(tracker);
    const detected = performance.now();
    this.timings = { detection: detected - began, preprocessing: 0, inference: 0 };
    if (face === null) return { face: null, crop: null };
    const roi = this.gray.roi(new cv.Rect(...face));
    try {
      cv.resize(roi, this.small, this.cropSize, 0, 0, cv.INTER_AREA);
    } finally {
      roi.delete();
    }
    cv.equalizeHist(this.small, this.equalized);
    this.clahe.apply(this.equalized, this.crop);
    // Copy out: `data` is a view of the wasm heap that the next frame overwrites.
    const crop = this.crop.data.slice();
    this.timings.preprocessing = performance.now() - detected;
    return { face, crop };
  }

  /** The face in the whole frame, or null. */
  searchAll() {
    const { spec } = this;
    this.cascade.detectMultiScale(
      this.gray, this.faces, spec.scale_factor, spec.min_neighbors, spec.detect_flags, this.minSize, this.maxSize,
    );
    return pickFace(this.faces);
  }

  /** The face near the tracker's last one, else from a full search; the tracker learns the outcome. */
  follow(tracker) {
    const { cv, spec } = this;
    if (tracker.tracking) {
      const { region, low, high } = tracker.searchWindow(this.gray.cols, this.gray.rows);
      const part = this.gray.roi(new cv.Rect(...region));
      try {
        this.cascade.detectMultiScale(
          part, this.faces, spec.scale_factor, spec.min_neighbors, spec.detect_flags, new cv.Size(low, low), new cv.Size(high, high),
        );
      } finally {
        part.delete();
      }
      const face = pickFace(this.faces, region[0], region[1]);
      if (face !== null) {
        tracker.update(face, false);
        return face;
      }
    }
    const face = this.searchAll();
    tracker.update(face, true);
    return face;
  }

  /**
   * Run the model on one crop (uint8, row-major): {gaze: [x, y] (the raw
   * output, 0..1 of the screen), features: Float32Array (the penultimate
   * activations)}.
   */
  async predict(crop) {
    const { tf, spec } = this;
    const size = spec.crop_size;
    const began = performance.now();
    // Dividing in float64 and storing in float32 rounds exactly like numpy's
    // float32 crop / float32(pixel_scale): double rounding is harmless for a
    // single division, so the model input matches Python bit for bit. A new
    // array per frame (10 kB) because a tensor may keep the array it was made from.
    // A model with C input channels gets the grayscale crop in every channel
    // (gazesite.pipeline.crops_to_input does the same).
    const channels = spec.channels;
    const input = new Float32Array(crop.length * channels);
    for (let i = 0; i < crop.length; i += 1) {
      const value = crop[i] / spec.pixel_scale;
      for (let c = 0; c < channels; c += 1) input[i * channels + c] = value;
    }
    const outputs = [tf.tidy(() => this.model.predict(tf.tensor4d(input, [1, size, size, channels])))].flat();
    try {
      const data = await Promise.all(outputs.map((output) => output.data()));
      const [x, y] = data.at(-1);
      this.timings.inference = performance.now() - began;
      return { gaze: [x, y], features: data.length > 1 ? data[0] : new Float32Array(0) };
    } finally {
      for (const output of outputs) output.dispose();
    }
  }

  /** The whole pipeline on one RGBA frame: {face, crop: Uint8Array | null, gaze: [x, y] | null, features: Float32Array | null}. */
  async run(image, tracker = null) {
    const { face, crop } = this.detect(image, tracker);
    if (face === null) return { face: null, crop: null, gaze: null, features: null };
    return { face, crop, ...(await this.predict(crop)) };
  }
}
