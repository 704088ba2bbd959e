// assets/app/study/participant-flow.js on stand-in elements: the order of the screens, the head guide's
// Continue, the time limit ending the page as Finish does, the bounded flush and the redirect with pid.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';

import { ParticipantFlow } from '../../assets/app/study/participant-flow.js';

const IDS = [
  'guide',
  'task',
  'end',
  'guide-advice',
  'guide-continue',
  'task-start',
  'finish',
  'end-sent',
  'end-next',
  'collect-status',
  'panel',
];
// As the build passes them (gazesite.study.participant).
const SETTINGS = {
  flow: true,
  finishUrl: 'https://app.example.org/done?cc=C0DE',
  seconds: 90,
  maxRedos: 2,
  flushMs: 5000,
  guide: { minFaceWidth: 0.25, maxFaceWidth: 0.75, maxOffset: 0.15, minBrightness: 60, holdMs: 1000 },
};

function element() {
  const listeners = {};
  return {
    hidden: true,
    disabled: false,
    textContent: '',
    dataset: {},
    addEventListener: (type, listener) => {
      listeners[type] = listener;
    },
    click() {
      listeners.click?.();
    },
    focus() {},
  };
}

function setUp(settings = SETTINGS) {
  const elements = Object.fromEntries(IDS.map((id) => [id, element()]));
  const tracker = {
    active: false,
    listener: null,
    start: mock.fn(() => {
      tracker.active = true;
    }),
    stop: mock.fn(),
    divert: mock.fn((listener) => {
      tracker.listener = listener;
      return () => {
        if (tracker.listener === listener) tracker.listener = null;
      };
    }),
  };
  const app = {
    tracker,
    calibrator: { calibrate: mock.fn(async () => 'model') },
    calibration: { reset: mock.fn() },
    samples: { participant: 'abc123', markPageStart: mock.fn(), markPageEnd: mock.fn() },
    sender: { flush: mock.fn(async () => ({ sentSamples: 1200, pending: 1 })) },
  };
  const flow = new ParticipantFlow(
    { getElementById: (id) => elements[id] },
    { settings, app, status: { state: 'running' }, panel: elements.panel },
  );
  return { flow, app, elements };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const frame = { width: 320, height: 240, data: new Uint8ClampedArray(320 * 240 * 4).fill(180) };

describe('ParticipantFlow', () => {
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    globalThis.location = { assign: mock.fn() };
  });
  afterEach(() => {
    mock.timers.reset();
    delete globalThis.location;
  });

  test('guide, calibration, task, page, then the time limit ends it as Finish does and sends the participant on', async () => {
    const { flow, app, elements } = setUp();
    flow.begin();
    assert.equal(flow.phase, 'guide');
    assert.equal(elements.guide.hidden, false);
    assert.equal(app.tracker.start.mock.callCount(), 1);
    assert.equal(app.calibration.reset.mock.callCount(), 1); // an earlier visit's calibration is not this participant's

    // Off-centre: Continue stays disabled and the advice says what to fix.
    app.tracker.listener({ face: [10, 23, 184, 184] }, 0, frame);
    assert.equal(elements['guide-continue'].disabled, true);
    assert.match(elements['guide-advice'].textContent, /Centre your face/);
    // Centred: Continue enables once it has held for holdMs.
    app.tracker.listener({ face: [107, 67, 106, 106] }, 100, frame);
    app.tracker.listener({ face: [107, 67, 106, 106] }, 900, frame);
    assert.equal(elements['guide-continue'].disabled, true);
    app.tracker.listener({ face: [107, 67, 106, 106] }, 1100, frame);
    assert.equal(elements['guide-continue'].disabled, false);

    elements['guide-continue'].click();
    assert.deepEqual(app.calibrator.calibrate.mock.calls[0].arguments, [{ participant: true, maxRedos: 2 }]);
    // Until the calibration diverts the frames itself, they go nowhere (never to the sample log).
    assert.deepEqual(app.tracker.divert.mock.calls.at(-1).arguments[1], 'Calibrating: look at the dots.');
    await settle();
    assert.equal(flow.phase, 'task');
    assert.equal(app.calibration.reset.mock.callCount(), 2); // going on with the model alone
    assert.notEqual(app.tracker.listener, null); // nothing is logged while the task shows

    elements['task-start'].click();
    assert.equal(flow.phase, 'page');
    assert.equal(app.tracker.listener, null);
    assert.equal(app.samples.markPageStart.mock.callCount(), 1);
    assert.equal(elements.finish.hidden, false);
    assert.equal(elements.panel.hidden, true);

    mock.timers.tick(89_999);
    assert.equal(flow.phase, 'page');
    mock.timers.tick(1);
    await settle();
    assert.equal(flow.phase, 'end');
    assert.equal(app.samples.markPageEnd.mock.callCount(), 1);
    assert.equal(app.tracker.stop.mock.callCount(), 1);
    assert.deepEqual(app.sender.flush.mock.calls[0].arguments, [5000]);
    assert.equal(elements.finish.hidden, true);
    assert.equal(elements.end.hidden, false);
    assert.match(elements['end-sent'].textContent, /1,200 samples were sent; 1 batch is still pending/);
    assert.deepEqual(globalThis.location.assign.mock.calls[0].arguments, ['https://app.example.org/done?cc=C0DE&pid=abc123']);
    elements.finish.click(); // ending twice does nothing
    await settle();
    assert.equal(app.sender.flush.mock.callCount(), 1);
  });

  test('a cancelled calibration goes back to the guide; without a finish URL the end screen stays', async () => {
    const { flow, app, elements } = setUp({ ...SETTINGS, finishUrl: null, seconds: null });
    app.calibrator.calibrate = mock.fn(async () => undefined);
    flow.begin();
    for (const at of [0, 1000]) app.tracker.listener({ face: [107, 67, 106, 106] }, at, frame);
    elements['guide-continue'].click();
    await settle();
    assert.equal(flow.phase, 'guide');
    assert.equal(elements.guide.hidden, false);
    app.calibrator.calibrate = mock.fn(async () => 'calibrated');
    for (const at of [2000, 3000]) app.tracker.listener({ face: [107, 67, 106, 106] }, at, frame);
    elements['guide-continue'].click();
    await settle();
    assert.equal(app.calibration.reset.mock.callCount(), 1); // the new calibration stays
    elements['task-start'].click();
    elements.finish.click();
    await settle();
    assert.equal(globalThis.location.assign.mock.callCount(), 0);
    assert.match(elements['end-next'].textContent, /close this page/);
  });

  test('a problem shows the status lines: at once when it stops everything, after a second otherwise', () => {
    const { flow, elements } = setUp();
    flow.status.state = 'no-face';
    mock.timers.tick(750);
    assert.equal(elements.panel.hidden, true);
    mock.timers.tick(500);
    assert.equal(elements.panel.hidden, false);
    flow.status.state = 'running';
    mock.timers.tick(250);
    assert.equal(elements.panel.hidden, true);
    flow.status.state = 'camera-denied';
    mock.timers.tick(250);
    assert.equal(elements.panel.hidden, false);
  });

  test('declining ends on a screen that says nothing was sent', () => {
    const { flow, elements } = setUp();
    flow.declined();
    assert.equal(elements.end.hidden, false);
    assert.match(elements['end-sent'].textContent, /nothing was recorded or sent/);
  });
});
