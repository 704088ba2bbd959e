// Same-origin mode: the copied local site in a frame of the page's own origin, so its scroll position,
// location and elements can be read.

import { viewportToDocument } from '../track/coords.js';
import { cssPath } from './csspath.js';

export class SameOriginView {
  /** `frame` shows the site under `site.base` (dist-relative); `onChange(label)` hears every navigation. */
  constructor(frame, site, { onChange = () => {} } = {}) {
    Object.assign(this, { frame, onChange });
    this.mode = 'same-origin';
    this.base = new URL(site.base, frame.ownerDocument.baseURI);
    // The size of every document seen, by page id (samples v2 `pages`).
    this.seen = new Map();
    frame.addEventListener('load', () => this.onChange(this.label()));
  }

  // The framed window and document, or null while it cannot be read (not loaded yet, or another origin after a link).
  access() {
    try {
      const win = this.frame.contentWindow;
      const doc = win?.document;
      if (!doc?.documentElement || win.location.origin !== this.base.origin) return null;
      return { win, doc };
    } catch {
      return null;
    }
  }

  // A document's page id: its path below the site folder (with a leading /) and its query.
  pageId(win) {
    const { pathname, search } = win.location;
    const path = pathname.startsWith(this.base.pathname) ? `/${pathname.slice(this.base.pathname.length)}` : pathname;
    return path + search;
  }

  /** What the status line and debug panel say. */
  label() {
    const reached = this.access();
    return reached ? `same-origin ${this.pageId(reached.win)}` : 'same-origin (the frame shows another site)';
  }

  /** Where the framed document sits: {page, left, top, scale, width, height, frame}, or null when it cannot be read. */
  placement() {
    const reached = this.access();
    if (reached === null) return null;
    const { win, doc } = reached;
    const rect = this.frame.getBoundingClientRect();
    const root = doc.documentElement;
    const width = Math.max(root.scrollWidth, doc.body?.scrollWidth ?? 0);
    const height = Math.max(root.scrollHeight, doc.body?.scrollHeight ?? 0);
    const page = this.pageId(win);
    this.seen.set(page, { width, height });
    const left = rect.left + this.frame.clientLeft;
    const top = rect.top + this.frame.clientTop;
    return { page, left: left - win.scrollX, top: top - win.scrollY, scale: 1, width, height, frame: { left, top, win, doc } };
  }

  /** Samples v2 fields of a viewport point: doc (document px or null), page, element (CSS path), scroll (document px). */
  locate(x, y) {
    const place = this.placement();
    if (place === null) return { doc: null, page: null, element: null, scroll: [scrollX, scrollY] };
    const { win, doc: framed, left, top } = place.frame;
    const inside = x >= left && y >= top && x < left + win.innerWidth && y < top + win.innerHeight;
    const doc = inside ? viewportToDocument([x, y], place) : null;
    const element = doc === null ? null : cssPath(framed.elementFromPoint(x - left, y - top));
    return { doc, page: place.page, element, scroll: [win.scrollX, win.scrollY] };
  }

  /** The samples v2 `pages` entry of a page id (its size when last seen; no image). */
  pageInfo(id) {
    const size = this.seen.get(id);
    return size ? { id, width: size.width, height: size.height, image: null } : { id, width: null, height: null, image: null };
  }
}
