// assets/app/track/face-tracker.js: where to search for the face in a stream of frames.
// Mirrors tests/unit/track/test_face_tracker.py (the Python twin runs the same steps).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { FaceTracker, NOT_TRACKING, afterFrame, findFace, mayFollow, searchWindow } from '../../assets/app/track/face-tracker.js';
import { PIPELINE } from './helpers.mjs';

/** A search that answers from a script and records what it was asked. */
function recorder(answers) {
  const queue = [...answers];
  const calls = [];
  const search = (region, low, high) => {
    calls.push([region, low, high]);
    assert.ok(queue.length > 0, 'the search was called more often than scripted');
    return queue.shift();
  };
  return { search, calls };
}

describe('searchWindow', () => {
  test('grows the last box by track_margin of its width per side and clips it at 0', () => {
    const { region, low, high } = searchWindow([10, 20, 100, 100], 320, 240, PIPELINE);
    assert.deepEqual(region, [0, 0, 160, 170]); // 50 px per side, clipped at the top-left corner
    assert.deepEqual([low, high], [80, 125]); // 0.8 and 1.25 times 100
  });

  test('clips at the right and bottom edges of the frame', () => {
    const { region } = searchWindow([250, 180, 80, 80], 320, 240, PIPELINE);
    assert.deepEqual(region, [210, 140, 110, 100]);
  });

  test('keeps the region whole when the face is well inside the frame', () => {
    // margin floor(61 * 0.5) = 30.
    const { region, low, high } = searchWindow([120, 90, 61, 61], 320, 240, PIPELINE);
    assert.deepEqual(region, [90, 60, 121, 121]);
    assert.deepEqual([low, high], [70, 77]); // floor(48.8) < min_face_size; ceil(76.25)
  });

  test('never goes below the smallest face the pipeline accepts, and high >= low', () => {
    assert.equal(searchWindow([0, 0, 72, 72], 320, 240, PIPELINE).low, PIPELINE.min_face_size);
    const narrow = { ...PIPELINE, track_max_scale: 0.5 };
    const { low, high } = searchWindow([0, 0, 72, 72], 320, 240, narrow);
    assert.deepEqual([low, high], [70, 70]);
  });
});

describe('findFace', () => {
  const face = [100, 50, 120, 120];
  // margin 60: x 40..280, y 0..230; sizes floor(96)..ceil(150).
  const near = [[40, 0, 240, 230], 96, 150];

  test('searches the full frame first, then near the face, and the full frame again every track_full_search_every frames', () => {
    const spec = { ...PIPELINE, track_full_search_every: 3 };
    const { search, calls } = recorder(Array(9).fill(face));
    let state = NOT_TRACKING;
    for (let i = 0; i < 9; i += 1) {
      const result = findFace(state, 320, 240, search, spec);
      assert.deepEqual(result.face, face);
      state = result.state;
    }
    assert.deepEqual(
      calls.map(([region]) => region === null),
      [true, false, false, false, true, false, false, false, true],
    );
    for (const call of calls) assert.deepEqual(call, call[0] === null ? [null, PIPELINE.min_face_size, 0] : near);
    assert.deepEqual(state, { last: face, trackedFrames: 0 });
  });

  test('with the shipped constants, follows for 10 frames between full searches', () => {
    const { search, calls } = recorder(Array(23).fill(face));
    let state = NOT_TRACKING;
    for (let i = 0; i < 23; i += 1) state = findFace(state, 320, 240, search, PIPELINE).state;
    const full = calls.flatMap(([region], i) => (region === null ? [i] : []));
    assert.deepEqual(full, [0, 11, 22]);
  });

  test('falls back to a full search at once when the face is lost near the last one', () => {
    const elsewhere = [10, 10, 90, 90];
    const { search, calls } = recorder([null, elsewhere]);
    const { face: got, state } = findFace({ last: face, trackedFrames: 1 }, 320, 240, search, PIPELINE);
    assert.deepEqual(got, elsewhere);
    assert.deepEqual(state, { last: elsewhere, trackedFrames: 0 });
    assert.deepEqual(calls, [near, [null, PIPELINE.min_face_size, 0]]);
  });

  test('no face anywhere: the state forgets the face, so the next frame searches everything', () => {
    const { search, calls } = recorder([null, null, face]);
    const lost = findFace({ last: face, trackedFrames: 4 }, 320, 240, search, PIPELINE);
    assert.equal(lost.face, null);
    assert.equal(mayFollow(lost.state, PIPELINE), false);
    findFace(lost.state, 320, 240, search, PIPELINE);
    assert.deepEqual(calls[2], [null, PIPELINE.min_face_size, 0]);
  });

  test('states are frozen and count the frames followed since the last full search', () => {
    const followed = afterFrame({ last: face, trackedFrames: 2 }, face, false);
    assert.ok(Object.isFrozen(followed) && Object.isFrozen(NOT_TRACKING));
    assert.equal(followed.trackedFrames, 3);
    assert.equal(afterFrame(followed, face, true).trackedFrames, 0);
    assert.equal(mayFollow(NOT_TRACKING, PIPELINE), false);
    assert.equal(mayFollow({ last: face, trackedFrames: 9 }, PIPELINE), true);
    assert.equal(mayFollow({ last: face, trackedFrames: 10 }, PIPELINE), false);
  });
});

describe('FaceTracker', () => {
  test('keeps the state between frames, and reset makes the next frame search everything', () => {
    const face = [100, 50, 120, 120];
    const { search, calls } = recorder([face, face, face]);
    const tracker = new FaceTracker(PIPELINE);
    assert.deepEqual(tracker.find(320, 240, search), face);
    assert.deepEqual(tracker.find(320, 240, search), face);
    assert.equal(tracker.state.trackedFrames, 1);
    tracker.reset();
    assert.equal(tracker.state, NOT_TRACKING);
    tracker.find(320, 240, search);
    assert.deepEqual(
      calls.map(([region]) => region === null),
      [true, false, true],
    );
  });
});
