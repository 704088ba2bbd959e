// assets/app/output/samples.js: the sample log and its JSON and CSV exports (samples version 2).
// The log reads the viewport from globals, as the page does from window; the view (study/view.js) is a stand-in.

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';

import { SampleLog, textField } from '../../assets/app/output/samples.js';

beforeEach(() => {
  Object.assign(globalThis, { innerWidth: 1280, innerHeight: 720, scrollX: 0, scrollY: 0, devicePixelRatio: 2 });
  Object.defineProperty(globalThis, 'screen', { value: { width: 1920, height: 1080 }, configurable: true });
});

const V1_COLUMNS = 't,x,y,viewport_width,viewport_height,face_x,face_y,face_w,face_h,scroll_x,scroll_y,dpr,source';
const HEADER = `${V1_COLUMNS},raw_x,raw_y,doc_x,doc_y,page,element`;
// As the build passes it (gazesite.samples.schema.SAMPLE_FORMAT).
const FORMAT = { name: 'gazesite-samples', version: 2, columns: HEADER.split(','), maxText: 2048 };
/** A document view that puts every point 1000 px further down a page scrolled by `scrollTop`. */
function documentView(scrollTop = 1000, element = 'main > p:nth-of-type(2)') {
  return {
    mode: 'same-origin',
    locate: (x, y) => ({ doc: [x, y + scrollTop], page: '/about.html', element, scroll: [0, scrollTop] }),
    pageInfo: (id) => ({ id, width: 1280, height: 4000, image: null }),
  };
}

const frameView = { mode: 'frame', locate: () => ({ doc: null, page: null, element: null, scroll: [0, 0] }), pageInfo: () => null };

function log({ sessionStart = 1000, view = documentView(), calibration = () => null } = {}) {
  return new SampleLog({ format: FORMAT, target: 'https://example.com/', sessionStart, view, study: 'pilot', calibration });
}

describe('SampleLog', () => {
  test('records time from the session start and positions to 0.1, the raw point, and where the view puts it', () => {
    const samples = log({ sessionStart: 1000 });
    samples.add({ x: 100.04, y: 200.06, raw: [90.01, 210.04], face: [1, 2, 3, 4], source: 'calibrated' }, 1012.345);
    assert.deepEqual(samples.samples, [
      {
        t: 12.3,
        x: 100,
        y: 200.1,
        viewport: [1280, 720],
        scroll: [0, 1000],
        dpr: 2,
        face: [1, 2, 3, 4],
        source: 'calibrated',
        raw: [90, 210],
        doc: [100, 1200.1],
        page: '/about.html',
        element: 'main > p:nth-of-type(2)',
      },
    ]);
  });

  test('without a raw point the smoothed one stands in; a frame view gives no document point', () => {
    const samples = log({ view: frameView });
    const sample = samples.add({ x: 5, y: 6, face: [7, 8, 9, 10] }, 2000);
    assert.deepEqual(sample.raw, [5, 6]);
    assert.equal(sample.doc, null);
    assert.equal(sample.page, null);
    assert.equal(sample.source, 'model');
  });

  test('copies the face box: the tracker may reuse its array', () => {
    const samples = log();
    const face = [1, 2, 3, 4];
    samples.add({ x: 0, y: 0, face }, 1000);
    face[0] = 99;
    assert.deepEqual(samples.samples[0].face, [1, 2, 3, 4]);
  });

  test("toCSV keeps version 1's columns first, leaves nulls empty and quotes cells with commas or quotes", () => {
    const samples = log({ sessionStart: 0, view: documentView(0, 'a[title="x, y"]') });
    samples.add({ x: 10, y: 20, raw: [11, 21], face: [30, 40, 50, 60] }, 5);
    const framed = log({ sessionStart: 0, view: frameView });
    framed.add({ x: 1, y: 2, face: [3, 4, 5, 6] }, 7);
    assert.equal(samples.toCSV(), `${HEADER}\n5,10,20,1280,720,30,40,50,60,0,0,2,model,11,21,10,20,/about.html,"a[title=""x, y""]"\n`);
    assert.equal(framed.toCSV(), `${HEADER}\n7,1,2,1280,720,3,4,5,6,0,0,2,model,1,2,,,,\n`);
    assert.ok(HEADER.startsWith(V1_COLUMNS));
  });

  test('toJSON names format, mode, session, study, screen, the calibration check and the pages looked at', () => {
    const summary = { method: 'eyes', points: 9, validation: { samples: 4, error: 0.03, rawError: 0.2 } };
    const samples = log({ sessionStart: 1500, calibration: () => summary });
    samples.add({ x: 1, y: 2, face: [3, 4, 5, 6] }, 1600);
    const document = JSON.parse(JSON.stringify(samples));
    assert.equal(document.format, 'gazesite-samples');
    assert.equal(document.version, 2);
    assert.equal(document.mode, 'same-origin');
    assert.match(document.session, /^[A-Za-z0-9_-]{16,64}$/);
    assert.equal(document.study, 'pilot');
    assert.deepEqual(document.screen, [1920, 1080]);
    assert.deepEqual(document.calibration, { method: 'eyes', checkError: 0.03, rawError: 0.2, points: 9 });
    assert.deepEqual(document.pages, [{ id: '/about.html', width: 1280, height: 4000, image: null }]);
    assert.equal(Date.parse(document.started), Math.floor(performance.timeOrigin + 1500));
    assert.deepEqual(document.samples, samples.samples);
  });

  test('the participant id and the page times go into the document; null until known', () => {
    const samples = new SampleLog({ format: FORMAT, target: 'x', sessionStart: 1000, view: frameView, participant: 'abc123' });
    const before = samples.toJSON();
    assert.deepEqual([before.participant, before.pageStart, before.pageEnd], ['abc123', null, null]);
    samples.markPageStart(1234.56);
    samples.markPageStart(5000); // the first showing counts
    samples.markPageEnd(61234.44);
    samples.markPageEnd(70000);
    const document = samples.toJSON();
    assert.deepEqual([document.pageStart, document.pageEnd], [234.6, 60234.4]);
    assert.equal(log().toJSON().participant, null);
  });

  test('two logs have two session ids; no calibration exports null', () => {
    const one = log();
    const two = log();
    assert.notEqual(one.session, two.session);
    assert.equal(one.toJSON().calibration, null);
  });
});

describe('text fields within the samples contract', () => {
  // What gazesite.samples.schema.is_text accepts: 1-2048 code points, no control characters, no lone surrogates.
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
  const acceptable = (text) =>
    text === null || (Array.from(text).length <= 2048 && Array.from(text).length > 0 && !CONTROL.test(text) && text.isWellFormed());

  test('a long query, a lone surrogate, control characters and emoji at the cut come out acceptable', () => {
    const cases = [`/about.html?q=${'x'.repeat(3000)}`, '#id-\ud800', 'div\u0000\nspan', `${'a'.repeat(2047)}😀😀`, '\udc00', ''];
    for (const text of cases) assert.ok(acceptable(textField(text, 2048)), JSON.stringify(text.slice(0, 40)));
    assert.equal(textField(`${'a'.repeat(2047)}😀😀`, 2048), `${'a'.repeat(2047)}😀`); // whole code points
    assert.equal(textField('/a?b=1', 2048), '/a?b=1');
    assert.equal(textField('', 2048), null);
    assert.equal(textField(null, 2048), null);
  });

  test('the log clips a page id and keeps its page entry', () => {
    const long = `/about.html?q=${'x'.repeat(3000)}`;
    const view = {
      mode: 'same-origin',
      locate: (x, y) => ({ doc: [x, y], page: long, element: `#a\ud800`, scroll: [0, 0] }),
      pageInfo: (id) => (id === long ? { id, width: 1280, height: 900, image: null } : null),
    };
    const samples = log({ view });
    samples.add({ x: 1, y: 2, face: [0, 0, 10, 10] }, 1100);
    const [sample] = samples.samples;
    assert.equal(sample.page, long.slice(0, 2048));
    assert.equal(sample.element, '#a\ufffd');
    assert.deepEqual(samples.toJSON().pages, [{ id: long.slice(0, 2048), width: 1280, height: 900, image: null }]);
  });
});
