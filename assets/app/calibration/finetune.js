// The fine-tuning candidate: TensorFlow.js refits the model's last two Dense
// layers (the head) on the person's calibration frames, starting from the
// trained weights and pulled back towards them (an L2 penalty on the change),
// with full-batch Adam for a fixed number of steps, so the result is
// deterministic. It competes in the same leave-one-dot-out cross-validation
// as the ridge candidates (see choose.js). Twin of gazesite/calibration/finetune.py.

import { groupByTarget, meanError } from './ridge.js';
import { lookup } from '../own.js';

/** The penultimate layer's activations the head can be refitted with (the last layer must be linear). */
const ACTIVATIONS = {
  linear: (x) => x,
  relu: (x) => (x > 0 ? x : 0),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

/**
 * The model's head, when it can be fine-tuned: {activation, layers: [{kernel:
 * Float32Array (rows x cols, row-major), bias, rows, cols}, ...]} for the
 * penultimate and the last layer; null when they are not Dense layers with
 * a supported activation and a linear output.
 */
export function readHead(model) {
  const [penultimate, last] = model.layers.slice(-2);
  if (!penultimate || penultimate.getClassName() !== 'Dense' || last.getClassName() !== 'Dense') return null;
  const activation = penultimate.activation?.getClassName?.();
  if (lookup(ACTIVATIONS, activation) === undefined || last.activation?.getClassName?.() !== 'linear') return null;
  const layers = [penultimate, last].map((layer) => {
    const [kernel, bias] = layer.getWeights();
    if (!bias) return null;
    const [rows, cols] = kernel.shape;
    return { kernel: kernel.dataSync().slice(), bias: bias.dataSync().slice(), rows, cols };
  });
  return layers.includes(null) ? null : { activation, layers };
}

/** The fine-tuned head's point [x, y] for one frame's trunk activations (plain JS: about 0.05 ms). */
export function applyHead(head, trunk) {
  const act = lookup(ACTIVATIONS, head.activation);
  let values = trunk;
  head.layers.forEach((layer, index) => {
    const out = new Float64Array(layer.cols);
    for (let c = 0; c < layer.cols; c += 1) out[c] = layer.bias[c];
    for (let r = 0; r < layer.rows; r += 1) {
      const value = values[r];
      if (value === 0) continue;
      const offset = r * layer.cols;
      for (let c = 0; c < layer.cols; c += 1) out[c] += value * layer.kernel[offset + c];
    }
    if (index === 0) for (let c = 0; c < out.length; c += 1) out[c] = act(out[c]);
    values = out;
  });
  return [values[0], values[1]];
}

// Fit the head on rows of trunk activations (a tensor2d) and targets; returns a plain head.
function train(tf, head, trunk, targets, settings) {
  const start = head.layers.map((layer) => [tf.tensor2d(layer.kernel, [layer.rows, layer.cols]), tf.tensor1d(layer.bias)]);
  const weights = start.map(([kernel, bias]) => [tf.variable(kernel), tf.variable(bias)]);
  const optimizer = tf.train.adam(settings.learningRate);
  const activate = lookup({ linear: (x) => x, relu: tf.relu, tanh: tf.tanh, sigmoid: tf.sigmoid }, head.activation);
  try {
    for (let step = 0; step < settings.steps; step += 1) {
      optimizer.minimize(() => {
        const hidden = activate(tf.add(tf.matMul(trunk, weights[0][0]), weights[0][1]));
        const predicted = tf.add(tf.matMul(hidden, weights[1][0]), weights[1][1]);
        const fit = tf.mean(tf.square(tf.sub(predicted, targets)));
        // The pull towards the trained weights keeps 40 frames from undoing 20 000.
        const drift = tf.addN(weights.map(([kernel], i) => tf.sum(tf.square(tf.sub(kernel, start[i][0])))));
        return tf.add(fit, tf.mul(settings.anchor / 2, drift));
      });
    }
    return {
      activation: head.activation,
      layers: weights.map(([kernel, bias], i) => ({ ...head.layers[i], kernel: kernel.dataSync().slice(), bias: bias.dataSync().slice() })),
    };
  } finally {
    optimizer.dispose();
    for (const pair of [...weights, ...start]) for (const tensor of pair) tensor.dispose();
  }
}

// Resolves on the next macrotask, so progress reaches the screen between folds.
const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

// At most `perDot` evenly spaced sample indices of each group: fine-tuning
// time grows with the frames, and neighbouring frames of one dot add little.
function thinned(groups, count, perDot) {
  const members = Array.from({ length: count }, () => []);
  groups.forEach((group, i) => members[group].push(i));
  return members.map((indices) => {
    if (indices.length <= perDot) return indices;
    const picks = new Set(Array.from({ length: perDot }, (_, k) => Math.round((k * (indices.length - 1)) / (perDot - 1))));
    return [...picks].sort((a, b) => a - b).map((k) => indices[k]);
  });
}

/**
 * Score fine-tuning by leave-one-dot-out cross-validation (one fit per dot
 * left out, on at most settings.framesPerDot frames of every other dot; the
 * left-out dot's frames are all predicted) and fit it on every dot: a
 * candidate for chooseCalibration ({method: 'finetune', lambda: null,
 * cvError, predictions, fit}). Samples need `trunk` activations; `settings`
 * is config.calibration.maths.finetune ({steps, learningRate, anchor,
 * framesPerDot}); `onProgress(done, total)` hears every fit.
 */
export async function finetuneCandidate(tf, head, samples, settings, onProgress = () => {}) {
  const [groups, count] = groupByTarget(samples);
  const targets = samples.map((s) => [s.target[0], s.target[1]]);
  const kept = thinned(groups, count, settings.framesPerDot);
  const fitOn = async (indices, step) => {
    onProgress(step, count + 1);
    await yieldToPage();
    const trunk = tf.tensor2d(indices.map((i) => Array.from(samples[i].trunk)));
    const target = tf.tensor2d(indices.map((i) => targets[i]));
    try {
      return train(tf, head, trunk, target, settings);
    } finally {
      trunk.dispose();
      target.dispose();
    }
  };
  const predictions = new Array(samples.length);
  for (let fold = 0; fold < count; fold += 1) {
    const fitted = await fitOn(
      kept.flatMap((indices, group) => (group === fold ? [] : indices)),
      fold,
    );
    groups.forEach((group, i) => {
      if (group === fold) predictions[i] = applyHead(fitted, samples[i].trunk);
    });
  }
  const fitted = await fitOn(kept.flat(), count);
  onProgress(count + 1, count + 1);
  return {
    method: 'finetune',
    lambda: null,
    weight: null,
    cvError: meanError(predictions, targets),
    predictions,
    fit: () => ({ method: 'finetune', head: encodeHead(fitted) }),
  };
}

/** A head as JSON-safe data (kernels as base64 float32: a 1152x32 kernel is 150 kB instead of 700 kB of JSON). */
export function encodeHead(head) {
  return {
    activation: head.activation,
    layers: head.layers.map(({ kernel, bias, rows, cols }) => ({ rows, cols, kernel: toBase64(kernel), bias: Array.from(bias) })),
  };
}

/** The inverse of encodeHead (throws on malformed data). */
export function decodeHead(encoded) {
  return {
    activation: encoded.activation,
    layers: encoded.layers.map(({ kernel, bias, rows, cols }) => ({
      rows,
      cols,
      kernel: fromBase64(kernel, rows * cols),
      bias: Float32Array.from(bias),
    })),
  };
}

function toBase64(values) {
  const bytes = new Uint8Array(Float32Array.from(values).buffer);
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return btoa(text);
}

function fromBase64(text, length) {
  const binary = atob(text);
  if (binary.length !== length * 4) throw new Error(`expected ${length} float32 values`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/** Whether a stored head fits this model ({trunk, features} widths), with finite numbers throughout. */
export function headProblem(encoded, widths) {
  try {
    const head = decodeHead(encoded);
    if (lookup(ACTIVATIONS, head.activation) === undefined) return `unknown activation ${JSON.stringify(head.activation)}`;
    const [first, second] = head.layers;
    if (
      head.layers.length !== 2 ||
      first.rows !== widths.trunk ||
      first.cols !== widths.features ||
      second.rows !== widths.features ||
      second.cols !== 2
    ) {
      return 'the fine-tuned head does not fit this model';
    }
    const finite = (values) => values.every(Number.isFinite);
    if (!head.layers.every((layer) => finite(layer.kernel) && finite(layer.bias) && layer.bias.length === layer.cols)) {
      return 'the fine-tuned head holds non-finite numbers';
    }
  } catch (error) {
    return `the fine-tuned head is malformed (${error.message})`;
  }
  return null;
}
