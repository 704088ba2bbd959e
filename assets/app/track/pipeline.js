// The frame pipeline, browser twin of gazesite/track/pipeline.py: same steps, same
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
 * The eye band's rectangle [x, y, w, h] in the frame, margins included,
 * clipped to the frame (twin of gazesite.pipeline.eye_region: both sides
 * evaluate the same double expressions, so they floor to the same pixels).
 */
export function eyeRegion([x, y, w, h], width, height, spec) {
  // Margins in frame pixels: eyes_margin_* band pixels at the band's scale.
  const marginX = (w * (spec.eyes_right - spec.eyes_left) * spec.eyes_margin_x) / spec.eyes_width;
  const marginY = (h * (spec.eyes_bottom - spec.eyes_top) * spec.eyes_margin_y) / spec.eyes_height;
  const x0 = Math.max(0, x + Math.floor(w * spec.eyes_left - marginX));
  const x1 = Math.min(width, x + Math.floor(w * spec.eyes_right + marginX));
  const y0 = Math.max(0, y + Math.floor(h * spec.eyes_top - marginY));
  const y1 = Math.min(height, y + Math.floor(h * spec.eyes_bottom + marginY));
  return [x0, y0, x1 - x0, y1 - y0];
}

function isBetterFace(a, b) {
  const areaA = a.width * a.height;
  const areaB = b.width * b.height;
  if (areaA !== areaB) return areaA > areaB;
  if (a.y !== b.y) return a.y < b.y;
  return a.x < b.x;
}

/**
 * The model seen through more outputs: the penultimate layer's activations
 * (the calibration's features), the gaze, and, when the last two layers are
 * Dense, the penultimate layer's input (the "trunk" the fine-tuning candidate
 * refits the head on). The same layers and weights run in the same order, so
 * the gaze is the one `model.predict` gives, and one call yields all.
 * "Penultimate" is by position, not by name, so any model whose last layer
 * maps features to the gaze works. Returns {model, outputs: names in output
 * order}; without a penultimate layer with a single output (a one-layer
 * model, a shared layer) the model is returned alone, and calibration maps
 * the gaze and the eye band only.
 */
export function withFeatures(tf, model) {
  const { layers } = model;
  const penultimate = layers[layers.length - 2];
  if (!penultimate) return { model, outputs: ['gaze'] };
  const dense = penultimate.getClassName() === 'Dense' && layers[layers.length - 1].getClassName() === 'Dense';
  const attempts = dense
    ? [
        [
          ['trunk', penultimate.input],
          ['features', penultimate.output],
        ],
        [['features', penultimate.output]],
      ]
    : [[['features', penultimate.output]]];
  for (const extra of attempts) {
    try {
      const outputs = [...extra.map(([, tensor]) => tensor), model.outputs[0]];
      return { model: tf.model({ inputs: model.inputs, outputs }), outputs: [...extra.map(([name]) => name), 'gaze'] };
    } catch {
      // A layer used in several places has no single output: try with less.
    }
  }
  return { model, outputs: ['gaze'] };
}

/** RGBA frame -> face box -> crop -> gaze (and features), reusing its OpenCV buffers from frame to frame. */
export class FramePipeline {
  constructor({ cv, tf, model, cascade, spec }) {
    this.cv = cv;
    this.tf = tf;
    // The original model stays for the fine-tuning candidate, which reads its head's weights.
    this.original = model;
    ({ model: this.model, outputs: this.outputNames } = withFeatures(tf, model));
    const width = (name) => {
      const index = this.outputNames.indexOf(name);
      return index < 0 ? 0 : this.model.outputs[index].shape.slice(1).reduce((a, b) => a * b, 1);
    };
    // Activations per frame of the penultimate layer and of its input (shapes without the batch axis, multiplied out).
    this.featureCount = width('features');
    this.trunkCount = width('trunk');
    this.cascade = cascade;
    this.spec = spec;
    const grid = spec.clahe_tile_grid;
    this.clahe = new cv.CLAHE(spec.clahe_clip_limit, new cv.Size(grid, grid));
    this.cropSize = new cv.Size(spec.crop_size, spec.crop_size);
    // Reused buffers: OpenCV reallocates an output Mat only when its size or
    // type changes, so steady frames allocate nothing on the wasm heap.
    this.rgba = null;
    this.gray = new cv.Mat();
    this.faces = new cv.RectVector();
    this.small = new cv.Mat();
    this.equalized = new cv.Mat();
    this.crop = new cv.Mat();
    this.eyes = new cv.Mat();
    this.eyesSize = new cv.Size(spec.eyes_width + 2 * spec.eyes_margin_x, spec.eyes_height + 2 * spec.eyes_margin_y);
    // Milliseconds per stage of the last frame, for benchmarks and the debug panel.
    this.timings = { detection: 0, preprocessing: 0, inference: 0 };
  }

  /**
   * Find the face and cut its crop (synchronous, OpenCV only). Without a
   * tracker every frame gets a full search (processFrame); with one, the
   * search follows the face (the live loop).
   * Returns {face: [x, y, w, h], crop: Uint8Array, eyes: Uint8Array} or {face: null, crop: null, eyes: null}.
   */
  detect(image, tracker = null) {
    const { cv } = this;
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
    if (face === null) return { face: null, crop: null, eyes: null };
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
    const eyes = this.cutEyes(face);
    this.timings.preprocessing = performance.now() - detected;
    return { face, crop, eyes };
  }

  /**
   * The eye band the calibration reads, with its margins (twin of
   * gazesite.pipeline.cut_eyes): a part of the face box cut from the
   * full-resolution gray frame, shrunk with INTER_AREA, not equalised.
   * Returns a Uint8Array of (eyes_width + 2 eyes_margin_x) x (eyes_height + 2 eyes_margin_y).
   */
  cutEyes(face) {
    const { cv, spec } = this;
    const roi = this.gray.roi(new cv.Rect(...eyeRegion(face, this.gray.cols, this.gray.rows, spec)));
    try {
      cv.resize(roi, this.eyes, this.eyesSize, 0, 0, cv.INTER_AREA);
    } finally {
      roi.delete();
    }
    return this.eyes.data.slice();
  }

  /**
   * The face the cascade picks in a region [x, y, w, h] of the frame (null:
   * the whole frame), of low..high px (high 0: no bound), or null (twin of
   * gazesite.track.pipeline.search_faces).
   */
  searchFaces(region, low, high) {
    const { cv, spec } = this;
    const part = region === null ? this.gray : this.gray.roi(new cv.Rect(...region));
    try {
      this.cascade.detectMultiScale(
        part,
        this.faces,
        spec.scale_factor,
        spec.min_neighbors,
        spec.detect_flags,
        new cv.Size(low, low),
        new cv.Size(high, high),
      );
    } finally {
      if (part !== this.gray) part.delete();
    }
    return region === null ? pickFace(this.faces) : pickFace(this.faces, region[0], region[1]);
  }

  /** The face in the whole frame, or null. */
  searchAll() {
    return this.searchFaces(null, this.spec.min_face_size, 0);
  }

  /** The face the tracker finds in this frame, searching near its last one when it may (twin of track_frame). */
  follow(tracker) {
    return tracker.find(this.gray.cols, this.gray.rows, (region, low, high) => this.searchFaces(region, low, high));
  }

  /**
   * Run the model on one crop (uint8, row-major): {gaze: [x, y] (the raw
   * output, 0..1 of the screen), features: Float32Array (the penultimate
   * activations), trunk: Float32Array (the penultimate layer's input)}; the
   * arrays are empty when the model does not expose them.
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
      const named = (name) => data[this.outputNames.indexOf(name)] ?? new Float32Array(0);
      const [x, y] = data.at(-1);
      this.timings.inference = performance.now() - began;
      return { gaze: [x, y], features: named('features'), trunk: named('trunk') };
    } finally {
      for (const output of outputs) output.dispose();
    }
  }

  /**
   * The whole pipeline on one RGBA frame: {face, crop: Uint8Array | null,
   * eyes: Uint8Array | null, gaze: [x, y] | null, features: Float32Array | null}.
   */
  async run(image, tracker = null) {
    const { face, crop, eyes } = this.detect(image, tracker);
    if (face === null) return { face: null, crop: null, eyes: null, gaze: null, features: null, trunk: null };
    return { face, crop, eyes, ...(await this.predict(crop)) };
  }
}
