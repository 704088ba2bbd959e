// The page's own UI: status line, buttons, calibration status, frame-refused notice, gaze dot, debug panel.

const MESSAGES = {
  'waiting-permission': 'Waiting for permission to use the camera…',
  'camera-denied': 'Camera access was denied: allow the camera for this page, then press Start.',
  'no-camera': 'No camera was found: connect one, then press Start.',
  'no-face': 'No face in view: face the camera.',
  running: 'Tracking your gaze (not calibrated).',
  stopped: 'Stopped: press Start to track again.',
  'model-missing': 'The gaze model could not be loaded.',
  error: 'Something went wrong.',
};

// The running sentence once a calibration is active.
const RUNNING_CALIBRATED = 'Tracking your gaze (calibrated).';

// States in which the camera side is fine; a refused frame outranks them.
const CAMERA_OK = new Set(['waiting-permission', 'no-face', 'running', 'stopped']);

/**
 * The status line (#status: data-state plus a short sentence).
 *
 * When the build found that the target refuses framing, data-state stays
 * `frame-refused` while the camera is fine (waiting-permission, no-face,
 * running, stopped), and the sentence says both; the camera's own state is
 * in data-camera. Problems that need the visitor (camera-denied, no-camera,
 * model-missing, error) replace it, since they stop tracking altogether.
 * While loading, `loading` shows. So the shown state is a pure function of
 * (camera state, refused), whatever order events arrive in. The default
 * running sentence says whether gaze is calibrated.
 */
export class Status {
  constructor(element) {
    this.element = element;
    this.refusedReason = null;
    this.calibrated = false;
    this.last = null;
    this.state = element.dataset.state;
    this.text = element.textContent;
  }

  /** Say from now on whether gaze is calibrated (the running sentence changes at once). */
  setCalibrated(calibrated) {
    this.calibrated = calibrated;
    if (this.last !== null) this.set(...this.last);
  }

  /** From now on, combine camera states with "the target refuses framing" (see above). */
  refuseFrame(reason) {
    this.refusedReason = reason;
  }

  /** Show a state with an optional sentence (a default one otherwise). */
  set(state, given) {
    this.last = [state, given];
    const message = given ?? (state === 'running' && this.calibrated ? RUNNING_CALIBRATED : MESSAGES[state]);
    const refused = this.refusedReason !== null && CAMERA_OK.has(state);
    const shown = refused ? 'frame-refused' : state;
    const text = refused ? `Target not shown: ${this.refusedReason}. ${message}` : message;
    // Called every frame: touch the DOM (and the live region) only on a change.
    if (shown === this.state && state === this.element.dataset.camera && text === this.text) return;
    this.state = shown;
    this.text = text;
    this.element.dataset.state = shown;
    this.element.dataset.camera = state;
    this.element.textContent = text;
  }
}

/** Show the notice that the target cannot be framed, with the build's reason. */
export function showFrameRefused(notice, reason) {
  const line = document.createElement('p');
  line.textContent = `Reason: ${reason}.`;
  notice.append(line);
  notice.hidden = false;
}

/** Look up buttons by id ({name: id}) and call handlers[name] on each click; returns {name: button}. */
function bindButtons(doc, ids, handlers) {
  const buttons = {};
  for (const [name, id] of Object.entries(ids)) {
    buttons[name] = doc.getElementById(id);
    buttons[name].addEventListener('click', () => handlers[name]());
  }
  return buttons;
}

/** Wire the toolbar buttons to handlers: {start, stop, clear, json, csv, png}. */
export function bindControls(doc, handlers) {
  const buttons = bindButtons(doc, {
    start: 'start', stop: 'stop', clear: 'clear', json: 'download-json', csv: 'download-csv', png: 'download-png',
  }, handlers);
  return {
    /** Enable Start or Stop to match the camera state; nothing starts before the pipeline has loaded. */
    update(state, loaded) {
      const active = ['waiting-permission', 'no-face', 'running'].includes(state);
      buttons.start.disabled = !loaded || active;
      buttons.stop.disabled = !loaded || !active;
    },
  };
}

/**
 * Wire the calibration buttons to handlers: {calibrate, record, reset,
 * dataset}. The returned update({loaded, busy, calibrated, kept}) enables
 * them to match: nothing before the pipeline has loaded, no second flow
 * while one runs, Reset only with a calibration, the dataset download only
 * once something is kept (its label counts the crops).
 */
export function bindCalibrationControls(doc, handlers) {
  const buttons = bindButtons(doc, {
    calibrate: 'calibrate', record: 'record', reset: 'calibration-reset', dataset: 'download-dataset',
  }, handlers);
  return {
    update({ loaded, busy, calibrated, kept }) {
      buttons.calibrate.disabled = !loaded || busy;
      buttons.record.disabled = !loaded || busy;
      buttons.reset.disabled = !calibrated || busy;
      buttons.dataset.disabled = kept === 0 || busy;
      buttons.dataset.textContent = kept === 0 ? 'Dataset' : `Dataset (${kept})`;
      buttons.dataset.title = kept === 0
        ? 'Nothing kept yet: calibrate or record to collect face crops with their targets'
        : `Download the ${kept} face crops kept from calibration and recording, with their targets (gazesite-dataset JSON)`;
    },
  };
}

/** #calibration-status: data-calibrated and a short sentence with the active calibration's error. */
export class CalibrationStatus {
  constructor(element) {
    this.element = element;
  }

  /**
   * Show a calibration summary, or null for none. The figure is the
   * validation error when the calibration had check points, otherwise its
   * cross-validated error; `definition` becomes the hover text.
   */
  show(summary, definition) {
    const calibrated = summary !== null;
    this.element.dataset.calibrated = String(calibrated);
    if (!calibrated) {
      this.element.textContent = 'Not calibrated';
      this.element.title = 'Gaze comes from the model alone: press Calibrate to fit it to you';
      return;
    }
    const measured = summary.validation?.samples > 0 ? summary.validation.errorPx : summary.cvErrorPx;
    this.element.textContent = Number.isFinite(measured) ? `Calibrated: ${Math.round(measured)} px mean error` : 'Calibrated';
    this.element.title = `${summary.validation?.samples > 0 ? 'On the check points' : 'Cross-validated'}. ${definition}`;
  }
}

/** The ring that follows the smoothed gaze. */
export class GazeDot {
  constructor(element) {
    this.element = element;
  }

  /** Put the ring at viewport px (x, y). */
  move(x, y) {
    this.element.style.transform = `translate(${x}px, ${y}px)`;
    this.element.hidden = false;
  }

  hide() {
    this.element.hidden = true;
  }
}

// How often the frames/s graph is redrawn (stats.js's own FPS panel: once a second).
const STATS_INTERVAL_MS = 1000;

/**
 * A stats.js frames/s graph in the toolbar, fed with `begin()`/`end()` per
 * frame like a Stats instance. Only stats.js's Panel is used: a full Stats
 * also redraws its (hidden) milliseconds panel, canvas text included, on
 * every frame, which cost the live loop about half a millisecond per frame.
 */
export function mountStats(StatsClass, container) {
  const panel = new StatsClass.Panel('FPS', '#0ff', '#002');
  const dom = document.createElement('div');
  dom.style.opacity = '0.9';
  dom.append(panel.dom);
  container.append(dom);
  let frames = 0;
  let since = performance.now();
  return {
    dom,
    begin() {},
    end() {
      frames += 1;
      const now = performance.now();
      if (now < since + STATS_INTERVAL_MS) return;
      // The graph's scale, 0-100 frames/s, is stats.js's own.
      panel.update((frames * 1000) / (now - since), 100);
      since = now;
      frames = 0;
    },
  };
}

const DEBUG_FIELDS = [
  ['face', 'Face box'],
  ['gaze', 'Gaze (raw)'],
  ['calibrated', 'Gaze (calibrated)'],
  ['backend', 'Backend'],
  ['fps', 'Frames/s'],
  ['ms', 'Pipeline ms'],
  ['tensors', 'Tensors'],
];

/** The debug panel: camera view, the model's crop and live values; updated only while open. */
export class DebugPanel {
  constructor(doc) {
    this.section = doc.getElementById('debug');
    this.toggle = doc.getElementById('toggle-debug');
    this.crop = doc.getElementById('crop');
    this.cropContext = this.crop.getContext('2d');
    this.cropImage = this.cropContext.createImageData(this.crop.width, this.crop.height);
    this.values = {};
    const list = doc.getElementById('debug-values');
    for (const [key, label] of DEBUG_FIELDS) {
      const term = doc.createElement('dt');
      term.textContent = label;
      const value = doc.createElement('dd');
      value.textContent = '–';
      list.append(term, value);
      this.values[key] = value;
    }
    this.toggle.addEventListener('click', () => {
      this.section.hidden = !this.section.hidden;
      this.toggle.setAttribute('aria-expanded', String(!this.section.hidden));
    });
  }

  get open() {
    return !this.section.hidden;
  }

  /** Draw a crop (uint8 gray, row-major, crop_size^2) as an image. */
  showCrop(crop) {
    const pixels = this.cropImage.data;
    for (let i = 0; i < crop.length; i += 1) {
      pixels[4 * i] = pixels[4 * i + 1] = pixels[4 * i + 2] = crop[i];
      pixels[4 * i + 3] = 255;
    }
    this.cropContext.putImageData(this.cropImage, 0, 0);
  }

  /** Set the listed values ({face, gaze, calibrated, backend, fps, ms, tensors}); missing keys keep theirs. */
  showValues(values) {
    for (const [key, value] of Object.entries(values)) {
      if (this.values[key]) this.values[key].textContent = value;
    }
  }
}
