// Loading: the vendored libraries, the TensorFlow.js backend, the model, OpenCV.js and the cascade.

import { StateError, describeError } from '../errors.js';

const LIBRARIES = [
  ['tf', 'TensorFlow.js'],
  ['cv', 'OpenCV.js'],
  ['h337', 'heatmap.js'],
  ['Stats', 'stats.js'],
];

/** Throw unless every vendored script ran (a failed or blocked <script> leaves its global undefined). */
export function checkLibraries() {
  const missing = LIBRARIES.filter(([name]) => globalThis[name] === undefined).map(([, label]) => label);
  if (missing.length > 0) {
    throw new StateError('error', `${missing.join(', ')} did not load: check the vendor/ files of the site`);
  }
}

/**
 * Switch TensorFlow.js to the first backend of `order` that starts; returns
 * `{backend, failed}` (the running backend's name, the ones that would not
 * start). `tf.setBackend` resolves false (it does not throw) when a backend
 * cannot start, so every candidate is checked explicitly.
 */
export async function selectBackend(tf, order, wasmPaths) {
  const failed = [];
  for (const name of order) {
    if (name === 'wasm' && !prepareWasm(tf, wasmPaths)) {
      failed.push('wasm (not bundled)');
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { backend: tf.getBackend(), failed };
      }
      failed.push(name);
    } catch (error) {
      failed.push(`${name} (${describeError(error)})`);
    }
  }
  throw new StateError('error', `no TensorFlow.js backend could start; tried ${failed.join(', ')}`);
}

// The wasm backend must learn where its binaries are before it starts. Only
// the single-threaded binaries ship (threads need cross-origin isolation,
// which a cross-origin iframe rules out), so multithreading is switched off;
// the build's map names all three files setWasmPaths insists on.
function prepareWasm(tf, wasmPaths) {
  if (!tf.wasm?.setWasmPaths) return false;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  tf.wasm.setWasmPaths(wasmPaths);
  return true;
}

/**
 * Load the layers model. Every request goes through a fetch that refuses
 * non-2xx answers, so a missing model.json or weight shard is reported with
 * its URL; any failure here puts the page in the `model-missing` state.
 */
export async function loadModel(tf, url, pipeline) {
  const absolute = new URL(url, document.baseURI).href;
  const fetchFunc = async (input, init) => {
    const response = await fetch(input, init);
    if (!response.ok) {
      const where = new URL(input, document.baseURI).href;
      throw new StateError(
        'model-missing',
        `The gaze model could not be loaded: ${where} answered ${response.status} ${response.statusText}`.trim(),
      );
    }
    return response;
  };
  let model;
  try {
    model = await tf.loadLayersModel(tf.io.http(url, { fetchFunc }));
  } catch (error) {
    if (error instanceof StateError) throw error;
    throw new StateError('model-missing', `The gaze model at ${absolute} could not be loaded: ${describeError(error)}`, { cause: error });
  }
  const [, height, width, channels] = model.inputs[0].shape;
  const size = pipeline.crop_size;
  if (height !== size || width !== size || channels !== pipeline.channels) {
    model.dispose();
    throw new StateError(
      'model-missing',
      `The gaze model at ${absolute} takes ${height}x${width}x${channels} inputs, but the pipeline makes ${size}x${size}x${pipeline.channels} inputs`,
    );
  }
  return model;
}

/**
 * Wait until the OpenCV.js runtime is up and resolve with the module. Two
 * shapes reach the page: the lean build (OpenCV's build_js.py, emscripten's
 * MODULARIZE) sets `cv` to a Promise of the module; the npm build sets `cv`
 * to the module itself, with a `then()` that returns `cv`, so awaiting or
 * resolving with that object would never settle: that `then` is removed first.
 */
export function openCvRuntime(cv) {
  if (cv instanceof Promise) {
    return cv.then(
      (module) => {
        if (typeof module?.Mat !== 'function')
          throw new StateError('error', 'OpenCV.js started without cv.Mat: check the vendor/ files of the site');
        return module;
      },
      (what) => {
        throw new StateError('error', `OpenCV.js failed to start: ${describeError(what)}`);
      },
    );
  }
  return new Promise((resolve, reject) => {
    const finish = () => {
      delete cv.then;
      resolve(cv);
    };
    if (cv.Mat) {
      finish();
      return;
    }
    cv.onAbort = (what) => reject(new StateError('error', `OpenCV.js failed to start: ${describeError(what)}`));
    const previous = cv.onRuntimeInitialized;
    cv.onRuntimeInitialized = () => {
      previous?.();
      finish();
    };
  });
}

/**
 * Load the Haar cascade. OpenCV.js ships no cascade files, so the XML is
 * fetched and written into its in-memory file system, loaded, then removed
 * (the classifier keeps its own parsed copy).
 */
export async function loadCascade(cv, { url, file }) {
  const absolute = new URL(url, document.baseURI).href;
  let bytes;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`answered ${response.status} ${response.statusText}`.trim());
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new StateError('error', `The face detector ${absolute} could not be loaded: ${describeError(error)}`);
  }
  const path = `/${file}`;
  cv.FS_createDataFile('/', file, bytes, true, false, false);
  const cascade = new cv.CascadeClassifier();
  const loaded = cascade.load(path);
  cv.FS_unlink(path);
  if (!loaded) {
    cascade.delete();
    throw new StateError('error', `The face detector ${absolute} is not a valid Haar cascade`);
  }
  return cascade;
}

/**
 * Load everything the pipeline needs, TensorFlow.js and OpenCV.js side by
 * side, and return `{backend, model, cascade, cv}` (`cv`: the running OpenCV
 * module, also put in `globalThis.cv` in place of the lean build's Promise). `onBackend(name, failed)`
 * hears the running backend (and the ones that would not start) before the
 * model has loaded.
 */
export async function loadAll(config, order, onBackend) {
  const { tf, cv } = globalThis;
  const loadTf = async () => {
    const { backend, failed } = await selectBackend(tf, order, config.wasmPaths);
    onBackend(backend, failed);
    const model = await loadModel(tf, config.model.url, config.pipeline);
    return { backend, model };
  };
  const loadCv = async () => {
    const module = await openCvRuntime(cv);
    globalThis.cv = module;
    return { cv: module, cascade: await loadCascade(module, config.cascade) };
  };
  const [{ backend, model }, { cv: module, cascade }] = await Promise.all([loadTf(), loadCv()]);
  return { backend, model, cascade, cv: module };
}
