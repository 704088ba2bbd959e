// The session id a sample export carries: random, made once per page load.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
// 22 characters of 64 each: 132 random bits.
const LENGTH = 22;

/** A new random id of [A-Za-z0-9_-] (samples v2 `session`). */
export function newSessionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(LENGTH));
  return Array.from(bytes, (byte) => ALPHABET[byte & 63]).join('');
}
