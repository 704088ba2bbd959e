// Screen <-> viewport mapping: the one place that knows where the page sits on the screen.

/** Read the screen and window metrics the mapping needs (all in CSS px). */
export function windowMetrics(win = window) {
  const { screen } = win;
  // On a multi-screen desktop, screenX/screenY count from the primary
  // screen's origin while screen.width/height describe the current screen;
  // availLeft/availTop (Chromium, Firefox) place the current screen's usable
  // area in that space. On a single screen the origin is (0, 0), and
  // availLeft would wrongly include a docked task bar, so it is not used.
  const extended = screen.isExtended === true;
  return {
    screenLeft: extended ? (screen.availLeft ?? 0) : 0,
    screenTop: extended ? (screen.availTop ?? 0) : 0,
    screenWidth: screen.width,
    screenHeight: screen.height,
    windowX: win.screenX,
    windowY: win.screenY,
    outerWidth: win.outerWidth,
    outerHeight: win.outerHeight,
    innerWidth: win.innerWidth,
    innerHeight: win.innerHeight,
  };
}

/**
 * Map a gaze point in fractions of the screen (0..1, top-left origin) to
 * viewport px, clamped into the viewport: returns {x, y}.
 *
 * Screen and window metrics are both CSS px, so devicePixelRatio cancels
 * out (browser zoom is assumed to be 100%: zoom shrinks innerWidth but not
 * the screen). The viewport's top-left corner on the screen is the window's
 * outer corner (screenX, screenY) plus the browser chrome: the side borders
 * are taken as equal, (outerWidth - innerWidth) / 2 each, and the bottom
 * border as thick as a side border, so everything else of
 * outerHeight - innerHeight (tabs, address bar) sits on top. In a
 * fullscreen or headless window outer == inner and the chrome terms vanish.
 */
export function screenToViewport([gx, gy], m) {
  const origin = viewportOrigin(m);
  const x = m.screenLeft + gx * m.screenWidth - origin.left;
  const y = m.screenTop + gy * m.screenHeight - origin.top;
  return { x: clamp(x, 0, m.innerWidth - 1), y: clamp(y, 0, m.innerHeight - 1) };
}

/**
 * Map a point in viewport px to fractions of the screen: [gx, gy]. The exact
 * inverse of screenToViewport (same metrics, same chrome model) for points
 * inside the viewport; nothing is clamped, so a point off the screen gives
 * fractions outside 0..1. Takes {x, y}, as screenToViewport returns it, or
 * an [x, y] pair.
 */
export function viewportToScreen(point, m) {
  const [x, y] = Array.isArray(point) ? point : [point.x, point.y];
  const origin = viewportOrigin(m);
  return [(origin.left + x - m.screenLeft) / m.screenWidth, (origin.top + y - m.screenTop) / m.screenHeight];
}

// The viewport's top-left corner in screen px (see screenToViewport).
function viewportOrigin(m) {
  const border = Math.max(0, (m.outerWidth - m.innerWidth) / 2);
  const top = Math.max(0, m.outerHeight - m.innerHeight - border);
  return { left: m.windowX + border, top: m.windowY + top };
}

function clamp(value, low, high) {
  return Math.min(Math.max(value, low), Math.max(low, high));
}

/**
 * Map a point in viewport px to document px of a page drawn with its
 * top-left corner at viewport px (left, top), `scale` viewport px per
 * document px, and `width` x `height` document px: returns [x, y], or null
 * when the point is off the document. The one place study mode maps viewport
 * to document (snapshot and same-origin alike).
 */
export function viewportToDocument([x, y], { left, top, scale, width, height }) {
  const dx = (x - left) / scale;
  const dy = (y - top) / scale;
  return dx >= 0 && dy >= 0 && dx < width && dy < height ? [dx, dy] : null;
}

/** The inverse of viewportToDocument (nothing is clamped): document px [x, y] to viewport px [x, y]. */
export function documentToViewport([dx, dy], { left, top, scale }) {
  return [left + dx * scale, top + dy * scale];
}
