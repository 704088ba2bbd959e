// assets/app/output/samples.js: the sample log and its JSON and CSV exports.
// The log reads the viewport from globals, as the page does from window.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { SampleLog } from '../../assets/app/output/samples.js';

beforeEach(() => {
  Object.assign(globalThis, { innerWidth: 1280, innerHeight: 720, scrollX: 0, scrollY: 300, devicePixelRatio: 2 });
});

const FORMAT = { name: 'gazesite-samples', version: 3 };

function log(sessionStart = 1000) {
  return new SampleLog({ format: FORMAT, target: 'https://example.com/', sessionStart });
}

describe('SampleLog', () => {
  test('records time from the session start and positions to 0.1, with the viewport, scroll and dpr of the moment', () => {
    const samples = log(1000);
    samples.add({ x: 100.04, y: 200.06, face: [1, 2, 3, 4], source: 'calibrated' }, 1012.345);
    globalThis.scrollY = 450;
    samples.add({ x: 5, y: 6, face: [7, 8, 9, 10] }, 2000);
    assert.deepEqual(samples.samples, [
      { t: 12.3, x: 100, y: 200.1, viewport: [1280, 720], scroll: [0, 300], dpr: 2, face: [1, 2, 3, 4], source: 'calibrated' },
      { t: 1000, x: 5, y: 6, viewport: [1280, 720], scroll: [0, 450], dpr: 2, face: [7, 8, 9, 10], source: 'model' },
    ]);
  });

  test('copies the face box: the tracker may reuse its array', () => {
    const samples = log();
    const face = [1, 2, 3, 4];
    samples.add({ x: 0, y: 0, face }, 1000);
    face[0] = 99;
    assert.deepEqual(samples.samples[0].face, [1, 2, 3, 4]);
  });

  test("toCSV writes a header and one row per sample in the header's order, ending with a newline", () => {
    const samples = log(0);
    samples.add({ x: 10, y: 20, face: [30, 40, 50, 60] }, 5);
    samples.add({ x: 11, y: 21, face: [31, 41, 51, 61], source: 'calibrated' }, 6);
    assert.equal(
      samples.toCSV(),
      't,x,y,viewport_width,viewport_height,face_x,face_y,face_w,face_h,scroll_x,scroll_y,dpr,source\n' +
        '5,10,20,1280,720,30,40,50,60,0,300,2,model\n' +
        '6,11,21,1280,720,31,41,51,61,0,300,2,calibrated\n',
    );
    assert.equal(log().toCSV(), 't,x,y,viewport_width,viewport_height,face_x,face_y,face_w,face_h,scroll_x,scroll_y,dpr,source\n');
  });

  test('toJSON names the format and the target, and dates the session from performance.timeOrigin', () => {
    const samples = log(1500);
    samples.add({ x: 1, y: 2, face: [3, 4, 5, 6] }, 1600);
    const document = JSON.parse(JSON.stringify(samples));
    assert.equal(document.format, 'gazesite-samples');
    assert.equal(document.version, 3);
    assert.equal(document.target, 'https://example.com/');
    assert.equal(Date.parse(document.started), Math.floor(performance.timeOrigin + 1500));
    assert.ok(Math.abs(Date.parse(document.created) - Date.now()) < 60000);
    assert.deepEqual(document.samples, samples.samples);
  });
});
