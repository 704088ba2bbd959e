// The heatmap in document space: points are kept per page in document px and drawn where that part of the
// document is now, so the heatmap scrolls with the content (snapshot and same-origin modes).

// heatmap.js draws one canvas the size of the viewport (not of a 15,000 px document: that canvas and its shadow
// copy would take hundreds of MB); points this far outside the view still reach into it.
const MARGIN = 60;

export class DocumentHeatmap {
  /** Draw through `heatmap` (a Heatmap over the viewport), placing points with `view` (placement()). */
  constructor(heatmap, view) {
    Object.assign(this, { heatmap, view });
    this.stores = new Map(); // page id -> {points: Map("x,y" -> count), max}
    this.drawn = null; // the placement the canvas shows, as a string
    const watch = () => {
      if (this.signature() !== this.drawn) this.render();
      requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
  }

  signature() {
    const place = this.view.placement();
    return place === null ? 'none' : `${place.page}|${place.left}|${place.top}|${place.scale}`;
  }

  /** Add the gaze point of one logged sample (its `doc` and `page`); a point off the document is not drawn. */
  add(x, y, sample) {
    if (!sample || sample.doc === null || sample.page === null) return;
    let store = this.stores.get(sample.page);
    if (!store) this.stores.set(sample.page, (store = { points: new Map(), max: 1 }));
    const key = `${Math.round(sample.doc[0])},${Math.round(sample.doc[1])}`;
    const count = (store.points.get(key) ?? 0) + 1;
    store.points.set(key, count);
    store.max = Math.max(store.max, count);
    // Drawn at once if the canvas shows this placement; otherwise the next animation frame redraws everything.
    if (this.signature() === this.drawn) this.heatmap.add(x, y);
  }

  /** Redraw the current page's points where its document now sits. */
  render() {
    const place = this.view.placement();
    this.drawn = this.signature();
    const store = place && this.stores.get(place.page);
    const data = [];
    if (store) {
      for (const [key, value] of store.points) {
        const [dx, dy] = key.split(',').map(Number);
        const x = Math.round(place.left + dx * place.scale);
        const y = Math.round(place.top + dy * place.scale);
        if (x > -MARGIN && y > -MARGIN && x < innerWidth + MARGIN && y < innerHeight + MARGIN) data.push({ x, y, value });
      }
    }
    // Points still waiting in the heatmap's batch are in this redraw already (and were placed for the old scroll).
    this.heatmap.replace({ min: 0, max: store?.max ?? 1, data });
  }

  /** Remove every point of every page (the sample log is kept). */
  clear() {
    this.stores.clear();
    this.render();
  }

  toDataURL() {
    return this.heatmap.toDataURL();
  }
}
