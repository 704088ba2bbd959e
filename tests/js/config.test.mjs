// assets/app/load/config.js: the page settings and the backend choice.

import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';

import { backendOrder, readConfig, requestedBackend } from '../../assets/app/load/config.js';

const BACKENDS = ['wasm', 'webgl', 'cpu'];

describe('backendOrder', () => {
  test("auto keeps the build's order, in a new array", () => {
    const order = backendOrder('auto', BACKENDS);
    assert.deepEqual(order, BACKENDS);
    assert.notEqual(order, BACKENDS);
  });

  test('a requested backend goes first, the others follow in their order, none twice', () => {
    assert.deepEqual(backendOrder('webgl', BACKENDS), ['webgl', 'wasm', 'cpu']);
    assert.deepEqual(backendOrder('cpu', BACKENDS), ['cpu', 'wasm', 'webgl']);
    assert.deepEqual(backendOrder('wasm', BACKENDS), BACKENDS);
  });
});

describe('requestedBackend', () => {
  const config = { backends: BACKENDS, backend: 'auto' };

  test('?backend= in the URL wins over the build setting', () => {
    assert.equal(requestedBackend({ ...config, backend: 'cpu' }, '?backend=webgl'), 'webgl');
    assert.equal(requestedBackend({ ...config, backend: 'cpu' }, '?backend=auto'), 'auto');
    assert.equal(requestedBackend(config, '?debug=1&backend=wasm'), 'wasm');
  });

  test('without ?backend= the build setting counts; an unknown build setting means auto', () => {
    assert.equal(requestedBackend({ ...config, backend: 'cpu' }, ''), 'cpu');
    assert.equal(requestedBackend(config, '?debug=1'), 'auto');
    assert.equal(requestedBackend({ ...config, backend: 'webgpu' }, ''), 'auto');
    assert.equal(requestedBackend({ backends: BACKENDS }, ''), 'auto');
  });

  test('an unknown ?backend= is reported and ignored', (t) => {
    const warn = t.mock.method(console, 'warn', () => {});
    assert.equal(requestedBackend({ ...config, backend: 'cpu' }, '?backend=webgpu'), 'cpu');
    assert.equal(warn.mock.callCount(), 1);
    assert.match(warn.mock.calls[0].arguments[0], /webgpu.*auto, wasm, webgl, cpu/);
  });

  test("only the build's backends are accepted from the URL", () => {
    const warn = mock.method(console, 'warn', () => {});
    try {
      assert.equal(requestedBackend({ backends: ['cpu'], backend: 'auto' }, '?backend=webgl'), 'auto');
    } finally {
      warn.mock.restore();
    }
  });
});

describe('readConfig', () => {
  const complete = {
    backends: BACKENDS,
    pipeline: { version: 1 },
    model: 'model/model.json',
    cascade: 'cascade.xml',
    wasmPaths: 'vendor/',
    sampleFormat: { name: 'gazesite-samples', version: 1 },
    datasetFormat: { name: 'gazesite-dataset', version: 1 },
    calibration: { points: 9 },
    participant: { flow: false },
  };
  const page = (settings) => ({
    getElementById: (id) => (id === 'gazesite-config' && settings !== undefined ? { textContent: JSON.stringify(settings) } : null),
  });

  test('parses the embedded JSON and freezes it', () => {
    const config = readConfig(page(complete));
    assert.deepEqual(config, complete);
    assert.ok(Object.isFrozen(config));
  });

  test('names the first missing setting', () => {
    const withoutCascade = { ...complete };
    delete withoutCascade.cascade;
    assert.throws(() => readConfig(page(withoutCascade)), /lack "cascade"/);
  });

  test('a page without settings is an error that says to rebuild', () => {
    assert.throws(() => readConfig(page(undefined)), /#gazesite-config/);
  });
});
