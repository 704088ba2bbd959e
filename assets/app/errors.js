// Errors that know which status they put the page in.

/** An error whose `state` is the status key the page shows for it. */
export class StateError extends Error {
  constructor(state, message, options) {
    super(message, options);
    this.name = 'StateError';
    this.state = state;
  }
}

/**
 * Turn anything thrown into a readable message. OpenCV.js throws C++
 * exceptions as bare numbers (pointers into its heap); `cv.exceptionFromPtr`
 * turns those into the real OpenCV message.
 */
export function describeError(error) {
  if (typeof error === 'number' && globalThis.cv?.exceptionFromPtr) {
    try {
      return `OpenCV: ${globalThis.cv.exceptionFromPtr(error).msg}`;
    } catch {
      return `OpenCV exception ${error}`;
    }
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
