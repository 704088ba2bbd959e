// What the page shows and how a viewport point maps onto it: frame (cross-origin iframe), snapshot or same-origin.

import { SameOriginView } from './sameorigin.js';
import { SnapshotView } from './snapshot.js';

/** Plain cross-origin framing: the page cannot see into the frame, so samples carry no document fields. */
export class FrameView {
  constructor() {
    this.mode = 'frame';
  }

  label() {
    return 'frame';
  }

  placement() {
    return null;
  }

  locate() {
    return { doc: null, page: null, element: null, scroll: [scrollX, scrollY] };
  }

  pageInfo() {
    return null;
  }
}

/** The view for the build's study settings ({mode, pages | site}); `handlers` as the views take them. */
export function createView(study, doc, handlers) {
  const mode = study?.mode ?? 'frame';
  if (mode === 'snapshot') return new SnapshotView(doc.getElementById('snapshot'), study.pages, handlers);
  if (mode === 'same-origin') return new SameOriginView(doc.getElementById('target'), study.site, handlers);
  if (mode === 'frame') return new FrameView();
  throw new Error(`the page settings name an unknown study mode "${mode}": rebuild the site with this gazesite version`);
}
