// assets/app/study/participant.js: the participant id, the finish URL and the head guide's verdict;
// assets/app/calibration/quality.js: when a calibration counts as poor.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { calibrationQuality } from '../../assets/app/calibration/quality.js';
import { describeCalibration, participantResult } from '../../assets/app/calibration/result.js';
import {
  GUIDE_ADVICE,
  Steady,
  finishTarget,
  headGuide,
  meanBrightness,
  participantId,
  participantWording,
} from '../../assets/app/study/participant.js';

// As the build passes them (gazesite.samples.schema.PARTICIPANT_PARAMS, PARTICIPANT_ID; gazesite.study.participant.HEAD_GUIDE).
const IDS = {
  params: ['pid', 'PROLIFIC_PID', 'workerId', 'participant'],
  pattern: '[A-Za-z0-9_.:@-]{1,128}',
};
const GUIDE = {
  minFaceWidth: 0.25,
  maxFaceWidth: 0.75,
  maxOffset: 0.15,
  minBrightness: 60,
  holdMs: 1000,
};

describe('participantId', () => {
  test('reads the first parameter present, in the build order', () => {
    assert.equal(participantId('?PROLIFIC_PID=5f1e2d3c4b5a69788796a5b4&x=1', IDS), '5f1e2d3c4b5a69788796a5b4');
    assert.equal(participantId('?workerId=A1B2C3&pid=lab-07', IDS), 'lab-07');
    assert.equal(participantId('?participant=p%40lab.org', IDS), 'p@lab.org');
  });

  test('an id off the pattern is dropped, never passed on', () => {
    for (const search of ['?pid=', '?pid=a%20b', '?pid=<script>', `?pid=${'a'.repeat(129)}`, '?PROLIFIC_PID=x%0Ay', '?pid=%C3%A9']) {
      assert.equal(participantId(search, IDS), null, search);
    }
    assert.equal(participantId('?pid=bad%20id&PROLIFIC_PID=good', IDS), null); // the first present wins, even when dropped
    assert.equal(participantId('', IDS), null);
    assert.equal(participantId('?other=abc', IDS), null);
  });

  test('the pattern is anchored: a matching prefix is not enough', () => {
    assert.equal(participantId('?pid=abc;rm', IDS), null);
  });
});

describe('finishTarget', () => {
  test('appends pid, URL-encoded, keeping the query and the fragment', () => {
    assert.equal(
      finishTarget('https://app.prolific.com/submissions/complete?cc=C1', 'a:b@c'),
      'https://app.prolific.com/submissions/complete?cc=C1&pid=a%3Ab%40c',
    );
    assert.equal(finishTarget('https://lab.example/done#top', 'p1'), 'https://lab.example/done?pid=p1#top');
    assert.equal(finishTarget('https://lab.example/done?pid=old', 'new'), 'https://lab.example/done?pid=new');
  });

  test('without an id the URL stays as it is', () => {
    assert.equal(finishTarget('https://lab.example/done?cc=1', null), 'https://lab.example/done?cc=1');
  });
});

describe('headGuide', () => {
  const frame = { width: 320, height: 240, brightness: 150 };

  test('a centred face a third of the frame wide, well lit, is fine', () => {
    assert.deepEqual(headGuide({ ...frame, face: [107, 67, 106, 106] }, GUIDE), { ok: true, problems: [] });
  });

  test('names what to fix, most pressing first, each with a sentence', () => {
    assert.deepEqual(headGuide({ ...frame, face: null }, GUIDE).problems, ['no-face']);
    assert.deepEqual(headGuide({ ...frame, brightness: 30, face: null }, GUIDE).problems, ['no-face', 'light']);
    assert.deepEqual(headGuide({ ...frame, face: [130, 90, 60, 60] }, GUIDE).problems, ['closer']);
    assert.deepEqual(headGuide({ ...frame, face: [20, 0, 260, 240] }, GUIDE).problems, ['farther']);
    assert.deepEqual(headGuide({ ...frame, face: [10, 23, 184, 184] }, GUIDE).problems, ['centre']);
    assert.deepEqual(headGuide({ ...frame, brightness: 59, face: [0, 0, 70, 70] }, GUIDE).problems, ['light', 'closer', 'centre']);
    for (const key of ['no-face', 'light', 'closer', 'farther', 'centre']) assert.ok(GUIDE_ADVICE[key]);
  });

  test('the thresholds are inclusive at their edges', () => {
    assert.equal(headGuide({ ...frame, brightness: 60, face: [120, 80, 80, 80] }, GUIDE).ok, true);
    // Centre 48 px (0.15 of 320) to the right of the frame's.
    assert.equal(headGuide({ ...frame, face: [168, 80, 80, 80] }, GUIDE).ok, true);
    assert.equal(headGuide({ ...frame, face: [169, 80, 80, 80] }, GUIDE).ok, false);
  });
});

describe('participantWording', () => {
  test('asks for a reload where the researcher would press Start', () => {
    assert.equal(
      participantWording('Camera access was denied: allow the camera for this page, then press Start.'),
      'Camera access was denied: allow the camera for this page, then reload this page.',
    );
    assert.equal(participantWording('No face in view: face the camera.'), 'No face in view: face the camera.');
  });
});

describe('meanBrightness', () => {
  test('weighs the channels as BT.601 and skips alpha', () => {
    const data = new Uint8ClampedArray([255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 255, 7, 100, 100, 100, 0]);
    assert.ok(Math.abs(meanBrightness({ data }, 1) - (76.245 + 149.685 + 29.07 + 100) / 4) < 1e-9);
    assert.equal(meanBrightness({ data: new Uint8ClampedArray(0) }), 0);
  });
});

describe('Steady', () => {
  test('is true once the condition held for holdMs, and starts over after a break', () => {
    const steady = new Steady(1000);
    assert.equal(steady.update(true, 0), false);
    assert.equal(steady.update(true, 999), false);
    assert.equal(steady.update(true, 1000), true);
    assert.equal(steady.update(false, 1100), false);
    assert.equal(steady.update(true, 1200), false);
    assert.equal(steady.update(true, 2200), true);
  });
});

describe('calibrationQuality', () => {
  const summary = (error, rawError, samples = 10) => ({
    validation: { samples, error, rawError },
  });

  test('a check error larger than the model alone is worse, whatever its size', () => {
    assert.equal(calibrationQuality(summary(0.05, 0.04), 0.1), 'worse');
  });

  test('above the threshold is poor, at or below it good; no check is unchecked', () => {
    assert.equal(calibrationQuality(summary(0.12, 0.3), 0.1), 'poor');
    assert.equal(calibrationQuality(summary(0.1, 0.3), 0.1), 'good');
    assert.equal(calibrationQuality(summary(0.1, 0.3, 0), 0.1), 'unchecked');
    assert.equal(calibrationQuality({ cvError: 0.02 }, 0.1), 'unchecked');
    assert.equal(calibrationQuality(null, 0.1), 'unchecked');
  });
});

describe('the calibration result screens', () => {
  const calibration = (error, rawError) => ({
    summary: {
      method: 'eyes',
      lambda: 0.01,
      points: 9,
      samples: 200,
      cvError: 0.05,
      cvErrorPx: 60,
      validation: { samples: 40, points: 4, error, errorPx: error * 1200, rawError, rawErrorPx: rawError * 1200 },
    },
  });

  test('worse than the model alone: says it did not help and makes Redo the default, even when small', () => {
    const result = describeCalibration(calibration(0.05, 0.04), null, 0.1);
    assert.equal(result.recommendRedo, true);
    assert.match(result.title, /did not help/);
    assert.match(result.lines[0].text, /less accurate than the model alone/);
    assert.equal(result.canAccept, true);
  });

  test('better than the model and under the threshold: Use this calibration stays the default', () => {
    const result = describeCalibration(calibration(0.05, 0.2), null, 0.1);
    assert.equal(result.recommendRedo, false);
    assert.equal(result.title, 'Calibration result');
  });

  test("the participant's screen offers Redo first and speaks no figures", () => {
    for (const left of [1, 2]) {
      const result = participantResult(left);
      assert.equal(result.recommendRedo, true);
      assert.ok(result.lines.every(({ text }) => !/\d\s*(px|%)/.test(text)));
    }
  });
});
