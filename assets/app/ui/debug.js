// The debug panel (camera crop, live values) and the Stats.js frame counter.

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
  ['mode', 'Mode'],
  ['doc', 'Document point'],
  ['element', 'Element'],
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
