// The calibration candidates and the per-person choice among them. Twin of
// gazesite/calibration/choose.py, function for function; no DOM.
//
// A sample is one frame with a face: {gaze: [x, y] (the model's raw output),
// features (its penultimate activations), eyes (the uint8 eye band with its
// margins, as the pipeline cuts it), target: [x, y]}; points are fractions of
// the screen. `context` is {settings (config.calibration.maths: every
// constant, from gazesite/calibration/settings.py), layout (eyes.js layoutOf)}. Every
// candidate is a ridge regression on some of these inputs; each is scored by
// leave-one-dot-out cross-validation (all frames of one dot form a fold, so
// near-identical neighbouring frames never score each other), the lowest
// mean error wins, and ties go to the earlier, simpler candidate.

import { eyeFeatures, eyeReference } from './eyes.js';
import { applyHead, decodeHead, headProblem } from './finetune.js';
import {
  centeredKernel,
  fitKernelRidge,
  fitRidge,
  groupByTarget,
  kernelRidgeCV,
  kernelScale,
  meanError,
  predictRow,
  standardize,
  standardizeRow,
} from './ridge.js';
import { lookup } from '../own.js';

/** The mapping methods a stored calibration may name. */
export const METHODS = Object.freeze(['affine', 'features', 'eyes', 'eyes+features', 'finetune']);

/** Every candidate in order of simplicity (ties go to the earlier): {method, lambdas, weight}. */
export function candidateList(hasFeatures, settings) {
  const out = [{ method: 'affine', lambdas: [settings.affineLambda], weight: null }];
  if (hasFeatures) out.push({ method: 'features', lambdas: settings.featureLambdas, weight: null });
  out.push({ method: 'eyes', lambdas: settings.eyeLambdas, weight: null });
  if (hasFeatures) for (const weight of settings.mixWeights) out.push({ method: 'eyes+features', lambdas: settings.eyeLambdas, weight });
  return out;
}

// ---------------------------------------------------------------- inputs per candidate

// The raw output alone ("affine"), or the penultimate activations followed by the raw output.
function modelRow(method, sample) {
  return method === 'affine' ? [sample.gaze[0], sample.gaze[1]] : [...sample.features, sample.gaze[0], sample.gaze[1]];
}

// Per-column penalties: the features candidate shrinks the activations by
// lambda, the raw output only by settings.affineLambda, so a large lambda tends to the
// affine map rather than to a constant.
function penalties(method, lambda, width, settings) {
  if (method === 'affine') return [lambda, lambda];
  return [...new Array(width - 2).fill(lambda), settings.affineLambda, settings.affineLambda];
}

/**
 * The person's eye reference and every sample's registered eye band,
 * computed once per calibration: {reference: Uint8Array, rows: Float64Array[]}.
 */
export function eyeInputs(samples, context) {
  const reference = eyeReference(
    samples.map((s) => s.eyes),
    context.layout,
    context.settings,
  );
  return { reference, rows: samples.map((s) => eyeFeatures(s.eyes, reference, context.layout, context.settings)) };
}

// The input blocks of a kernel candidate: the eye band registered to the
// person's reference, and the standardised CNN inputs scaled to their share
// of the eye band's energy.
function kernelBlocks(candidate, samples, eyes, settings) {
  const blocks = [{ input: 'eyes', reference: Array.from(eyes.reference), weight: 1 }];
  if (candidate.weight !== null) {
    const rows = samples.map((s) => modelRow('features', s));
    const stats = standardize(rows, settings.constantVariance);
    const energy = meanSquaredNorm(rows.map((row) => standardizeRow(row, stats)));
    const eyeEnergy = meanSquaredNorm(eyes.rows);
    const weight = energy > 0 ? Math.sqrt((candidate.weight * eyeEnergy) / energy) : 0;
    blocks.push({ input: 'model', mean: stats.mean, scale: stats.scale, weight });
  }
  return blocks;
}

// blockRow for a kernel candidate's own samples, with the eye band already registered.
function kernelRow(blocks, sample, index, eyes, context) {
  const row = [];
  for (const block of blocks) {
    const values = block.input === 'eyes' ? eyes.rows[index] : blockValues(block, sample, context);
    for (let j = 0; j < values.length; j += 1) row.push(values[j] * block.weight);
  }
  return row;
}

function meanSquaredNorm(rows) {
  let sum = 0;
  for (const row of rows) for (let j = 0; j < row.length; j += 1) sum += row[j] * row[j];
  return sum / rows.length;
}

// One block's unweighted values for one sample.
function blockValues(block, sample, context) {
  if (block.input === 'eyes') return eyeFeatures(sample.eyes, referenceOf(block), context.layout, context.settings);
  return standardizeRow(modelRow(block.input === 'gaze' ? 'affine' : 'features', sample), block);
}

// A block's reference as a Uint8Array, converted once per block object (every frame applies it).
const references = new WeakMap();
function referenceOf(block) {
  if (!references.has(block)) references.set(block, Uint8Array.from(block.reference));
  return references.get(block);
}

/** One sample's input row under a mapping's blocks (an array of numbers). */
export function blockRow(blocks, sample, context) {
  const row = [];
  for (const block of blocks) {
    const values = blockValues(block, sample, context);
    for (let j = 0; j < values.length; j += 1) row.push(values[j] * block.weight);
  }
  return row;
}

// ---------------------------------------------------------------- cross-validation

// Refit per fold (each fold standardises on its own training part, as the
// final fit does). A lambda whose equations are singular in some fold scores Infinity.
function crossValidatePrimal(candidate, samples, groups, count, { settings }) {
  const rows = samples.map((s) => modelRow(candidate.method, s));
  const targets = samples.map((s) => [s.target[0], s.target[1]]);
  return candidate.lambdas.map((lambda) => {
    const predictions = new Array(samples.length);
    try {
      for (let fold = 0; fold < count; fold += 1) {
        const train = [];
        const test = [];
        groups.forEach((group, i) => (group === fold ? test : train).push(i));
        const stats = standardize(
          train.map((i) => rows[i]),
          settings.constantVariance,
        );
        const W = fitRidge(
          train.map((i) => standardizeRow(rows[i], stats)),
          train.map((i) => targets[i]),
          penalties(candidate.method, lambda, rows[0].length, settings),
        );
        for (const i of test) predictions[i] = predictRow(W, standardizeRow(rows[i], stats));
      }
    } catch {
      return { ...candidate, lambda, cvError: Infinity, predictions };
    }
    return { ...candidate, lambda, cvError: meanError(predictions, targets), predictions };
  });
}

// Closed-form leave-one-dot-out of dual ridge, once per penalty.
function crossValidateKernel(candidate, samples, groups, count, context, eyes) {
  const blocks = kernelBlocks(candidate, samples, eyes, context.settings);
  const rows = samples.map((s, i) => kernelRow(blocks, s, i, eyes, context));
  const targets = samples.map((s) => [s.target[0], s.target[1]]);
  const { kernel } = centeredKernel(rows);
  const scale = kernelScale(kernel, rows.length);
  return candidate.lambdas.map((share) => {
    const predictions = kernelRidgeCV(kernel, targets, groups, count, share * scale);
    return { ...candidate, lambda: share, cvError: meanError(predictions, targets), predictions };
  });
}

// ---------------------------------------------------------------- fitting and applying

/**
 * Fit one mapping on all samples: a plain, JSON-safe {method, lambda,
 * weight, blocks, weights} for applyMapping.
 */
export function fitMapping(method, lambda, weight, samples, context, eyes = null) {
  const targets = samples.map((s) => [s.target[0], s.target[1]]);
  if (method === 'affine' || method === 'features') {
    const rows = samples.map((s) => modelRow(method, s));
    const stats = standardize(rows, context.settings.constantVariance);
    const weights = fitRidge(
      rows.map((row) => standardizeRow(row, stats)),
      targets,
      penalties(method, lambda, rows[0].length, context.settings),
    );
    const blocks = [{ input: method === 'affine' ? 'gaze' : 'model', mean: stats.mean, scale: stats.scale, weight: 1 }];
    return { method, lambda, weight, blocks, weights };
  }
  const inputs = eyes ?? eyeInputs(samples, context);
  const blocks = kernelBlocks({ method, weight }, samples, inputs, context.settings);
  const rows = samples.map((s, i) => kernelRow(blocks, s, i, inputs, context));
  const { kernel } = centeredKernel(rows);
  const weights = fitKernelRidge(rows, targets, lambda * kernelScale(kernel, rows.length));
  return { method, lambda, weight, blocks, weights };
}

// Decoded fine-tuned heads, per mapping object: decoding 150 kB of base64 every frame would cost more than the model.
const decodedHeads = new WeakMap();

/** The calibrated point [x, y] of one frame ({gaze, features, eyes, trunk}) under a mapping. */
export function applyMapping(mapping, sample, context) {
  if (mapping.method === 'finetune') {
    if (!decodedHeads.has(mapping)) decodedHeads.set(mapping, decodeHead(mapping.head));
    return applyHead(decodedHeads.get(mapping), sample.trunk);
  }
  return predictRow(mapping.weights, blockRow(mapping.blocks, sample, context));
}

/**
 * Choose and fit the calibration for one person. Each candidate (see
 * candidateList) is scored by leave-one-target-out cross-validation at each
 * of its penalties, the lowest mean error wins, then it is fitted on all
 * samples. Throws an Error with fewer than settings.minTargets distinct targets.
 * `extra` candidates ({method, lambda, cvError, predictions, fit()}: the
 * fine-tuned head, scored in finetune.js) compete last, so they win only
 * when strictly better.
 *
 * Returns {method, lambda, weight, fitError, cvError, samples, points,
 * mapping, candidates: [{method, lambda, weight, cvError}], cvPredictions};
 * errors are mean Euclidean distances in screen fractions.
 */
export function chooseCalibration(samples, context, extra = []) {
  const [groups, points] = groupByTarget(samples);
  const { minTargets } = context.settings;
  if (points < minTargets) {
    throw new Error(`calibration needs frames with a face at ${minTargets} or more distinct targets, got ${points}`);
  }
  const hasFeatures = samples.every((s) => s.features?.length > 0);
  const eyes = eyeInputs(samples, context);
  const scored = [];
  for (const candidate of candidateList(hasFeatures, context.settings)) {
    const primal = candidate.method === 'affine' || candidate.method === 'features';
    scored.push(...(primal ? crossValidatePrimal : crossValidateKernel)(candidate, samples, groups, points, context, eyes));
  }
  scored.push(...extra);
  // Strictly lower wins: on a tie the earlier, simpler candidate stays.
  const best = scored.reduce((a, b) => (b.cvError < a.cvError ? b : a));
  const mapping = best.fit ? best.fit() : fitMapping(best.method, best.lambda, best.weight, samples, context, eyes);
  const targets = samples.map((s) => s.target);
  return {
    method: best.method,
    lambda: best.lambda,
    weight: best.weight ?? null,
    fitError: meanError(
      samples.map((s) => applyMapping(mapping, s, context)),
      targets,
    ),
    cvError: best.cvError,
    samples: samples.length,
    points,
    mapping,
    candidates: scored.map(({ method, lambda, weight, cvError }) => ({ method, lambda, weight: weight ?? null, cvError })),
    cvPredictions: best.predictions,
  };
}

/**
 * Fit a calibration and describe it: {mapping, summary}, where summary is
 * {samples, points, method, lambda, weight, fitError, cvError, rawError (the
 * raw model's error on the same samples), cvErrorPx, screen, created,
 * candidates, validation: null}. `screen` {width, height} turns fractions into px.
 */
export function fitCalibration(samples, screen, context, extra = []) {
  const choice = chooseCalibration(samples, context, extra);
  const targets = samples.map((s) => s.target);
  return {
    mapping: choice.mapping,
    summary: {
      samples: choice.samples,
      points: choice.points,
      method: choice.method,
      lambda: choice.lambda,
      weight: choice.weight,
      fitError: choice.fitError,
      cvError: choice.cvError,
      rawError: meanError(
        samples.map((s) => s.gaze),
        targets,
      ),
      cvErrorPx: meanError(choice.cvPredictions, targets, [screen.width, screen.height]),
      screen: { width: screen.width, height: screen.height },
      created: new Date().toISOString(),
      candidates: choice.candidates,
      validation: null,
    },
  };
}

/**
 * Score a mapping on samples it was not fitted on, against the raw model:
 * {points, samples, error, errorPx, rawError, rawErrorPx} (NaN errors when
 * there are no samples).
 */
export function validateMapping(mapping, samples, screen, context) {
  const targets = samples.map((s) => s.target);
  const size = [screen.width, screen.height];
  const calibrated = samples.map((s) => applyMapping(mapping, s, context));
  const raw = samples.map((s) => s.gaze);
  return {
    points: groupByTarget(samples)[1],
    samples: samples.length,
    error: meanError(calibrated, targets),
    errorPx: meanError(calibrated, targets, size),
    rawError: meanError(raw, targets),
    rawErrorPx: meanError(raw, targets, size),
  };
}

/**
 * Why a mapping (say, one read back from storage) cannot be applied to this
 * model's frames, or null when it can: its method, every block's input,
 * statistics (finite, scales > 0: a zero scale would turn every point into
 * NaN) and weight, and a finite weight row per input plus the intercept.
 * `widths` = {features: the penultimate layer's size, trunk: its input's size,
 * eyes: the eye features per frame, eyeReference: the reference's pixels}.
 */
export function mappingProblem(mapping, widths) {
  if (mapping === null || typeof mapping !== 'object') return 'not an object';
  if (!METHODS.includes(mapping.method)) return `unknown method ${JSON.stringify(mapping.method)}`;
  if (mapping.method === 'finetune') return headProblem(mapping.head, widths);
  if (!Array.isArray(mapping.blocks) || mapping.blocks.length === 0) return 'no input blocks';
  const finiteList = (list, length) => Array.isArray(list) && list.length === length && list.every(Number.isFinite);
  let width = 0;
  for (const block of mapping.blocks) {
    const size = lookup({ eyes: widths.eyes, gaze: 2, model: widths.features + 2 }, block?.input);
    if (size === undefined) return `unknown input ${JSON.stringify(block?.input)}`;
    if (!(Number.isFinite(block.weight) && block.weight >= 0)) return `block ${block.input} has weight ${block.weight}`;
    if (block.input === 'eyes') {
      const pixels = widths.eyeReference;
      if (
        !Array.isArray(block.reference) ||
        block.reference.length !== pixels ||
        !block.reference.every((value) => Number.isInteger(value) && value >= 0 && value <= 255)
      ) {
        return `block eyes needs a reference of ${pixels} grey levels`;
      }
    } else {
      if (!finiteList(block.mean, size) || !finiteList(block.scale, size)) return `block ${block.input} needs ${size} means and scales`;
      if (!block.scale.every((value) => value > 0)) return `block ${block.input} has a scale <= 0`;
    }
    width += size;
  }
  const { weights } = mapping;
  if (!Array.isArray(weights) || weights.length !== width + 1 || !weights.every((row) => finiteList(row, 2))) {
    return `expected ${width + 1} finite weight rows of 2`;
  }
  return null;
}
