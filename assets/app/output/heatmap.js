// The gaze heatmap over the viewport (heatmap.js), in viewport px.

// Looks, not pipeline constants: the radius suits a 320x240 camera's gaze
// noise on a laptop screen; each point adds 1 and the colour scale follows
// the densest spot.
const STYLE = { radius: 40, maxOpacity: 0.6, minOpacity: 0, blur: 0.85 };

export class Heatmap {
  /** Create the heatmap inside `container`, sized to the viewport and kept so on resize. */
  constructor(h337, container) {
    this.instance = h337.create({ container, ...STYLE });
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
    this.instance.addData({ x: Math.round(x), y: Math.round(y), value: 1 });
  }

  /** Remove every point (the sample log is kept). */
  clear() {
    this.instance.setData({ max: 1, data: [] });
  }

  /** The heatmap as a PNG data URL (transparent where nobody looked). */
  toDataURL() {
    return this.instance.getDataURL();
  }
}
