// The gaze heatmap over the viewport (heatmap.js), in viewport px.

// Looks, not pipeline constants: the radius suits a 320x240 camera's gaze
// noise on a laptop screen; each point adds 1 and the colour scale follows
// the densest spot.
const STYLE = { radius: 40, maxOpacity: 0.6, minOpacity: 0, blur: 0.85 };
// Points are drawn in batches at most this often: every redraw of the
// viewport-sized canvas costs the compositor a full repaint of that layer,
// and a heatmap needs no 30 updates a second (the gaze dot moves per frame).
const FLUSH_MS = 250;

export class Heatmap {
  /** Create the heatmap inside `container`, sized to the viewport and kept so on resize. */
  constructor(h337, container) {
    this.instance = h337.create({ container, ...STYLE });
    this.pending = [];
    this.timer = 0;
    // heatmap.js sizes its canvas once; configure() with a new size redraws
    // the kept points on a canvas of the new viewport size.
    let pending = 0;
    window.addEventListener('resize', () => {
      clearTimeout(pending);
      pending = setTimeout(() => this.instance.configure({ width: innerWidth, height: innerHeight }), 150);
    });
  }

  /** Add one gaze point (viewport px). */
  add(x, y) {
    // heatmap.js keys its store by coordinate: whole pixels let repeated
    // looks at one spot add up instead of making separate entries.
    this.pending.push({ x: Math.round(x), y: Math.round(y), value: 1 });
    if (this.timer === 0) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Draw the points added since the last batch. */
  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    // heatmap.js adds an array's points one by one, in reverse: keep the order they came in.
    for (const point of this.pending) this.instance.addData(point);
    this.pending = [];
  }

  /** Remove every point (the sample log is kept). */
  clear() {
    this.replace({ max: 1, data: [] });
  }

  /** Draw exactly these points ({min, max, data} as heatmap.js takes them); a batch not yet drawn is dropped with the rest. */
  replace(points) {
    clearTimeout(this.timer);
    this.timer = 0;
    this.pending = [];
    this.instance.setData(points);
  }

  /** The heatmap as a PNG data URL (transparent where nobody looked), every point added so far included. */
  toDataURL() {
    this.flush();
    return this.instance.getDataURL();
  }
}
