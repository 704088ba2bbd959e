// Where to look for the face in a stream of frames: pure functions, twins of
// gazesite/track/face_tracker.py. After a face is found, only the region
// around it is searched, for faces of similar size (the cascade's small
// windows are its costliest work), and the whole frame again every
// `track_full_search_every` frames or as soon as the face is lost. Both sides
// run these same steps, so a sequence of frames gives the same boxes in
// Python and here, not only single frames.

/** What the tracker remembers between frames: the last face and the frames found near it since the last full search. */
export const NOT_TRACKING = Object.freeze({ last: null, trackedFrames: 0 });

/** True when the next frame may search near the last face only. */
export function mayFollow(state, spec) {
  return state.last !== null && state.trackedFrames < spec.track_full_search_every;
}

/** The region [x, y, w, h] to search around the last face, and the face sizes low..high to accept. */
export function searchWindow([x, y, w, h], width, height, spec) {
  const margin = Math.floor(w * spec.track_margin);
  const x0 = Math.max(0, x - margin);
  const y0 = Math.max(0, y - margin);
  const x1 = Math.min(width, x + w + margin);
  const y1 = Math.min(height, y + h + margin);
  const low = Math.max(spec.min_face_size, Math.floor(w * spec.track_min_scale));
  const high = Math.max(low, Math.ceil(w * spec.track_max_scale));
  return { region: [x0, y0, x1 - x0, y1 - y0], low, high };
}

/** The state after a frame: found near the last face, or by a full search (null: no face). */
export function afterFrame(state, face, fullSearch) {
  return Object.freeze({ last: face, trackedFrames: fullSearch ? 0 : state.trackedFrames + 1 });
}

/**
 * The face in this frame and the state after it: near the last face if
 * allowed and found there, else a full search. `search(region, low, high)`
 * runs the cascade in a region of the frame (null: the whole frame) for
 * faces of low..high px (high 0: no bound) and picks one.
 */
export function findFace(state, width, height, search, spec) {
  if (mayFollow(state, spec)) {
    const { region, low, high } = searchWindow(state.last, width, height, spec);
    const face = search(region, low, high);
    if (face !== null) return { face, state: afterFrame(state, face, false) };
  }
  const face = search(null, spec.min_face_size, 0);
  return { face, state: afterFrame(state, face, true) };
}

/** The state of one stream of frames, advanced by `find`. */
export class FaceTracker {
  constructor(spec) {
    this.spec = spec;
    this.reset();
  }

  /** Forget the face: the next frame gets a full search. */
  reset() {
    this.state = NOT_TRACKING;
  }

  /** The face in the next frame of the stream (null if there is none). */
  find(width, height, search) {
    const { face, state } = findFace(this.state, width, height, search, this.spec);
    this.state = state;
    return face;
  }
}
