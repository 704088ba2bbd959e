// The calibration's result screens: the figures for the researcher, plain words for a study's participant.

import { calibrationQuality } from './quality.js';

/** Defines the error figures; shown as hover text on every figure. */
export const ERROR_DEFINITION =
  'Mean Euclidean distance between each dot and the gaze estimated on the frames taken while it was shown. ' +
  'px: screen pixels. % of the screen: the same distance in fractions of the screen width and height, times 100.';

/** "84 px (6.6% of the screen)" for an error in screen fractions and in px. */
export function formatError(fraction, px) {
  if (!Number.isFinite(fraction)) return 'not measured';
  return `${Math.round(px)} px (${(fraction * 100).toFixed(1)}% of the screen)`;
}

const METHOD_NAMES = {
  affine: () => "an affine correction of the model's output",
  features: ({ lambda }) => `a ridge regression on the model's features (λ = ${lambda})`,
  eyes: ({ lambda }) => `a ridge regression on your eye region (λ = ${lambda} of its scale)`,
  'eyes+features': ({ lambda, weight }) =>
    `a ridge regression on your eye region and the model's features (share ${weight}, λ = ${lambda})`,
  finetune: () => "the model's last layers fine-tuned on your frames",
};

function describeMethod(summary) {
  return (METHOD_NAMES[summary.method] ?? (() => summary.method))(summary);
}

// The result screen of a calibration (or of a fit that failed). A check error larger than the model's
// alone, or above `poorError` (screen fractions, from the build), gets a warning and makes Redo the
// default, before the person can accept a poor mapping unawares.
export function describeCalibration(calibration, problem, poorError) {
  if (calibration === null) {
    return {
      title: 'Calibration failed',
      lines: [{ text: `${problem}.` }, { text: 'Face the camera, keep your head still, look at each dot, then press Redo.' }],
      acceptLabel: 'Use this calibration',
      redoLabel: 'Redo',
      canAccept: false,
    };
  }
  const { summary } = calibration;
  const check = summary.validation;
  const lines =
    check.samples > 0
      ? [
          { text: `Mean error on ${check.points} check points: ${formatError(check.error, check.errorPx)}.`, title: ERROR_DEFINITION },
          { text: `Before calibration (the model alone): ${formatError(check.rawError, check.rawErrorPx)}.`, title: ERROR_DEFINITION },
        ]
      : [{ text: 'No face was seen at the check points, so the accuracy could not be measured.' }];
  lines.push({
    text:
      `Fitted on ${summary.points} points (${summary.samples} frames) with ${describeMethod(summary)}: ` +
      `the best of the candidates in leave-one-point-out cross-validation, at ${formatError(summary.cvError, summary.cvErrorPx)}.`,
    title: ERROR_DEFINITION,
  });
  const quality = calibrationQuality(summary, poorError);
  const advice = 'Redo, with your head still, your face well lit and each dot followed with your eyes.';
  if (quality === 'worse') {
    lines.unshift({
      text: `This calibration did not help: on the check points it is less accurate than the model alone. ${advice}`,
      warning: true,
    });
  } else if (quality === 'poor') {
    lines.unshift({
      text: `The check error is above ${(poorError * 100).toFixed(0)}% of the screen: gaze points will land far from where you look. ${advice}`,
      warning: true,
    });
  }
  const titles = { worse: 'Calibration result: it did not help', poor: 'Calibration result: poor accuracy' };
  return {
    title: titles[quality] ?? 'Calibration result',
    lines,
    acceptLabel: 'Use this calibration',
    redoLabel: 'Redo',
    canAccept: true,
    recommendRedo: quality === 'worse' || quality === 'poor',
  };
}

/**
 * The result screen a study's participant sees when a calibration failed or made gaze worse than the
 * model alone: plain words, no figures; Redo is the default, "Continue" goes on with the model alone.
 */
export function participantResult(redosLeft) {
  return {
    title: 'Let us try that again',
    lines: [
      { text: 'The calibration did not work well this time.' },
      { text: 'Keep your head still, make sure your face is well lit, and follow each dot with your eyes until it moves on.' },
      { text: redosLeft === 1 ? 'You can try once more.' : `You can try ${redosLeft} more times.` },
    ],
    acceptLabel: 'Continue without it',
    redoLabel: 'Redo',
    canAccept: true,
    recommendRedo: true,
  };
}

// The result screen of a recording.
export function describeRecording(kept, seen, seconds) {
  const lines =
    kept > 0
      ? [
          { text: `Recorded ${kept} frames with a face (of ${seen}) in ${seconds} s.` },
          { text: 'Keep them for the dataset download, or record again.' },
        ]
      : [{ text: `No face was seen in ${seen} frames: face the camera and record again.` }];
  return { title: 'Recording done', lines, acceptLabel: 'Keep', redoLabel: 'Record again', canAccept: kept > 0 };
}
