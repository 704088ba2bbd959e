// Snapshot mode: the captured page as an ordinary scrollable document, in tiles the browser loads lazily.

import { viewportToDocument } from '../track/coords.js';

// A snapshot up to this much wider than the window is scaled down to fit rather than swapped for a narrower one
// (a window of 1265 px, 1280 less its scroll bar, still shows the 1280 px capture).
const SCALE_DOWN_TOLERANCE = 1.05;
const RESIZE_SETTLE_MS = 150;

/** The snapshot to show in `available` px: the widest that fits (with the tolerance above), else the narrowest. */
export function pickSnapshot(pages, available) {
  const sorted = [...pages].sort((a, b) => a.width - b.width);
  const fitting = sorted.filter((page) => page.width <= available * SCALE_DOWN_TOLERANCE);
  return fitting.length > 0 ? fitting[fitting.length - 1] : sorted[0];
}

export class SnapshotView {
  /**
   * Show `pages` (the build's snapshots: {id, width, height, image, tiles: [{src, top, height}]}) in
   * `container`, the one that fits the window; `onChange(label)` hears every switch, `onProblem(message)`
   * every tile that fails to load.
   */
  constructor(container, pages, { onChange = () => {}, onProblem = () => {} } = {}) {
    if (!Array.isArray(pages) || pages.length === 0) throw new Error('the page settings list no snapshot: rebuild the site');
    Object.assign(this, { container, pages, onChange, onProblem });
    this.mode = 'snapshot';
    this.page = null;
    this.scale = 1;
    this.sheet = container.ownerDocument.createElement('div');
    this.sheet.className = 'snapshot-page';
    container.append(this.sheet);
    this.show();
    let pending = 0;
    window.addEventListener('resize', () => {
      clearTimeout(pending);
      pending = setTimeout(() => this.show(), RESIZE_SETTLE_MS);
    });
  }

  /** Lay out the snapshot that fits the window now, keeping the same part of the document in view. */
  show() {
    const available = this.container.clientWidth || innerWidth;
    const page = pickSnapshot(this.pages, available);
    const scale = Math.min(1, available / page.width);
    if (page === this.page && scale === this.scale) return;
    const fraction = this.page ? this.container.scrollTop / (this.page.height * this.scale) : 0;
    this.page = page;
    this.scale = scale;
    const doc = this.container.ownerDocument;
    const tiles = page.tiles.map((tile) => {
      const image = doc.createElement('img');
      image.alt = '';
      image.loading = 'lazy';
      image.decoding = 'async';
      image.draggable = false;
      image.style.top = `${tile.top * scale}px`;
      image.style.height = `${tile.height * scale}px`;
      image.addEventListener('error', () => this.onProblem(`part of the snapshot (${tile.src}) could not be loaded`));
      image.src = tile.src;
      return image;
    });
    this.sheet.style.width = `${page.width * scale}px`;
    this.sheet.style.height = `${page.height * scale}px`;
    this.sheet.replaceChildren(...tiles);
    this.container.scrollTop = fraction * page.height * scale;
    this.onChange(this.label());
  }

  /** What the status line and debug panel say. */
  label() {
    const zoom = this.scale < 1 ? ` at ${Math.round(this.scale * 100)}%` : '';
    return `snapshot ${this.page.width} px${zoom}`;
  }

  /** Where the shown document sits: {page, left, top, scale, width, height} (viewport px, document px). */
  placement() {
    const rect = this.sheet.getBoundingClientRect();
    return { page: this.page.id, left: rect.left, top: rect.top, scale: this.scale, width: this.page.width, height: this.page.height };
  }

  /** Samples v2 fields of a viewport point: doc (document px or null), page, element (none), scroll (document px). */
  locate(x, y) {
    const place = this.placement();
    return {
      doc: viewportToDocument([x, y], place),
      page: place.page,
      element: null,
      scroll: [this.container.scrollLeft / this.scale, this.container.scrollTop / this.scale],
    };
  }

  /** The samples v2 `pages` entry of a page id. */
  pageInfo(id) {
    const page = this.pages.find((p) => p.id === id);
    return page ? { id, width: page.width, height: page.height, image: page.image } : null;
  }
}
