// The eye band as calibration inputs: registered to the person's own eyes,
// then halved, smoothed and normalised. Twin of gazesite/calibration/eyes.py,
// step for step; no DOM.
//
// The pipeline cuts the band with a margin around it (pipeline.js cutEyes).
// The face box the band hangs from jitters by a few pixels between frames,
// about as far as the iris travels across the whole screen, so each band is
// first shifted onto a reference (the person's mean band): an exhaustive
// integer search, coarse then fine, refined to a sub-pixel shift. Every
// decision is taken on integers, so the page and Python take the same one.
//
// A band is a Uint8Array, row-major; `layout` is {width, height, marginX,
// marginY} (band pixels; the band with its margins is (width + 2 marginX)
// by (height + 2 marginY)). `settings` is {referenceRounds, coarse, smoothing}.

/** The layout the pipeline cuts, from its constants. */
export function layoutOf(spec) {
  return { width: spec.eyes_width, height: spec.eyes_height, marginX: spec.eyes_margin_x, marginY: spec.eyes_margin_y };
}

/** How many inputs eyeFeatures gives per frame (the halved band). */
export function eyeFeatureCount(layout) {
  return Math.floor(layout.width / 2) * Math.floor(layout.height / 2);
}

// Zero-mean sum of squared differences, times the pixel count, in exact
// integers: N * sum((a - b)^2) - (sum(a) - sum(b))^2. Every term stays below
// 2^53, so doubles hold it exactly. `image` is read at (left, top) with row
// length `stride`; `reference` is w x h.
function cost(image, stride, left, top, reference, w, h) {
  let total = 0;
  let squares = 0;
  for (let r = 0; r < h; r += 1) {
    const row = (top + r) * stride + left;
    const refRow = r * w;
    for (let c = 0; c < w; c += 1) {
      const difference = image[row + c] - reference[refRow + c];
      total += difference;
      squares += difference * difference;
    }
  }
  return w * h * squares - total * total;
}

// The shift of least cost among xs x ys (first in row order on a tie), and
// a lookup of every cost tried (undefined for shifts not tried).
function search(image, stride, reference, w, h, marginX, marginY, xs, ys) {
  const width = 2 * marginX + 1;
  const costs = new Float64Array(width * (2 * marginY + 1)).fill(NaN);
  let best = null;
  for (const dy of ys) {
    for (const dx of xs) {
      const value = cost(image, stride, marginX + dx, marginY + dy, reference, w, h);
      costs[(dy + marginY) * width + dx + marginX] = value;
      if (best === null || value < best[0]) best = [value, dx, dy];
    }
  }
  const at = (dx, dy) => {
    if (Math.abs(dx) > marginX || Math.abs(dy) > marginY) return undefined;
    const value = costs[(dy + marginY) * width + dx + marginX];
    return Number.isNaN(value) ? undefined : value;
  };
  return { dx: best[1], dy: best[2], at };
}

// Sums over factor x factor blocks, dropping a ragged edge: {data, width, height}.
function shrink(image, width, height, factor) {
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Float64Array(w * h);
  for (let r = 0; r < h * factor; r += 1) {
    for (let c = 0; c < w * factor; c += 1) out[Math.floor(r / factor) * w + Math.floor(c / factor)] += image[r * width + c];
  }
  return { data: out, width: w, height: h };
}

const range = (low, high) => Array.from({ length: high - low + 1 }, (_, i) => low + i);

/** Where the reference sits in the band: {dx, dy, at(dx, dy) -> cost}, a coarse search on shrunk images, then +-1 pixel around it. */
export function integerShift(band, reference, layout, settings) {
  const { width, height, marginX, marginY } = layout;
  const full = width + 2 * marginX;
  const factor = settings.coarse;
  const mx = Math.floor(marginX / factor);
  const my = Math.floor(marginY / factor);
  const small = shrink(band, full, height + 2 * marginY, factor);
  const smallRef = shrink(reference, width, height, factor);
  const coarse = search(small.data, small.width, smallRef.data, smallRef.width, smallRef.height, mx, my, range(-mx, mx), range(-my, my));
  const xs = range(Math.max(-marginX, coarse.dx * factor - 1), Math.min(marginX, coarse.dx * factor + 1));
  const ys = range(Math.max(-marginY, coarse.dy * factor - 1), Math.min(marginY, coarse.dy * factor + 1));
  return search(band, full, reference, width, height, marginX, marginY, xs, ys);
}

// The offset of a parabola's minimum through three costs, within half a pixel (0 at the margin or a flat spot).
function parabola(before, at, after) {
  if (before === undefined || after === undefined) return 0;
  const curvature = before - 2 * at + after;
  if (curvature <= 0) return 0;
  return Math.min(0.5, Math.max(-0.5, (0.5 * (before - after)) / curvature));
}

/** The sub-pixel shift [x, y] that lays the reference onto the band. */
export function register(band, reference, layout, settings) {
  const { dx, dy, at } = integerShift(band, reference, layout, settings);
  const { width, height, marginX, marginY } = layout;
  // The fine search tries +-1 pixel around the coarse estimate, so its best
  // shift lies on that window's edge in about half the frames, per axis; the
  // neighbour outside is computed rather than given up on (figures in eyes.py).
  const near = (x, y) => {
    if (Math.abs(x) > marginX || Math.abs(y) > marginY) return undefined;
    return at(x, y) ?? cost(band, width + 2 * marginX, marginX + x, marginY + y, reference, width, height);
  };
  const here = at(dx, dy);
  const fx = parabola(near(dx - 1, dy), here, near(dx + 1, dy));
  const fy = parabola(near(dx, dy - 1), here, near(dx, dy + 1));
  return [dx + fx, dy + fy];
}

// The band's pixels at the reference's place, by bilinear interpolation (the
// same expression, in the same order, as numpy evaluates it). The last row
// and column repeat: at the outermost shift a neighbour of weight 0 must exist.
function window(band, [shiftX, shiftY], layout) {
  const { width, height, marginX, marginY } = layout;
  const full = width + 2 * marginX;
  const rows = height + 2 * marginY;
  const sx = marginX + shiftX;
  const sy = marginY + shiftY;
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  const out = new Float64Array(width * height);
  for (let r = 0; r < height; r += 1) {
    const top = (y0 + r) * full;
    const below = Math.min(y0 + r + 1, rows - 1) * full;
    for (let c = 0; c < width; c += 1) {
      const left = x0 + c;
      const right = Math.min(left + 1, full - 1);
      const a = band[top + left];
      const b = band[top + right];
      const d = band[below + left];
      const e = band[below + right];
      out[r * width + c] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
    }
  }
  return out;
}

// Binomial smoothing per axis (along rows first, then along columns), edges
// repeated; the taps are added in order, as numpy adds them.
function smooth(image, width, height, taps) {
  const radius = Math.floor(taps.length / 2);
  let total = 0;
  for (const tap of taps) total += tap;
  const clamp = (i, size) => Math.min(size - 1, Math.max(0, i));
  const across = new Float64Array(image.length);
  for (let r = 0; r < height; r += 1) {
    for (let c = 0; c < width; c += 1) {
      let sum = 0;
      for (let k = 0; k < taps.length; k += 1) sum += taps[k] * image[r * width + clamp(c + k - radius, width)];
      across[r * width + c] = sum / total;
    }
  }
  const out = new Float64Array(image.length);
  for (let r = 0; r < height; r += 1) {
    for (let c = 0; c < width; c += 1) {
      let sum = 0;
      for (let k = 0; k < taps.length; k += 1) sum += taps[k] * across[clamp(r + k - radius, height) * width + c];
      out[r * width + c] = sum / total;
    }
  }
  return out;
}

/**
 * A band's calibration inputs (Float64Array): registered to the reference,
 * halved (2x2 means), smoothed, zero mean and unit variance per frame.
 */
export function eyeFeatures(band, reference, layout, settings) {
  const { width, height } = layout;
  const registered = window(band, register(band, reference, layout, settings), layout);
  const w = Math.floor(width / 2);
  const h = Math.floor(height / 2);
  // A 2x2 mean per output pixel (w * h = eyeFeatureCount).
  const halved = new Float64Array(w * h);
  for (let r = 0; r < h; r += 1) {
    for (let c = 0; c < w; c += 1) {
      const top = 2 * r * width + 2 * c;
      halved[r * w + c] = (registered[top] + registered[top + 1] + registered[top + width] + registered[top + width + 1]) / 4;
    }
  }
  const values = smooth(halved, w, h, settings.smoothing);
  let mean = 0;
  for (const value of values) mean += value;
  mean /= values.length;
  let energy = 0;
  for (let i = 0; i < values.length; i += 1) {
    values[i] -= mean;
    energy += values[i] * values[i];
  }
  const spread = Math.sqrt(energy / values.length);
  if (spread > 0) for (let i = 0; i < values.length; i += 1) values[i] /= spread;
  return values;
}

// The rounded mean of uint8 windows, in integers (round half up, as Python rounds it).
function meanWindow(windows, size) {
  const total = new Float64Array(size);
  for (const w of windows) for (let i = 0; i < size; i += 1) total[i] += w[i];
  const n = windows.length;
  return Uint8Array.from(total, (sum) => Math.floor((2 * sum + n) / (2 * n)));
}

// The w x h window of a band at integer shift (dx, dy).
function crop(band, layout, dx, dy) {
  const { width, height, marginX, marginY } = layout;
  const full = width + 2 * marginX;
  const out = new Uint8Array(width * height);
  for (let r = 0; r < height; r += 1) {
    const start = (marginY + dy + r) * full + marginX + dx;
    out.set(band.subarray(start, start + width), r * width);
  }
  return out;
}

/** The person's mean band (Uint8Array, width x height): the centres, then `referenceRounds` of registering every band to the mean. */
export function eyeReference(bands, layout, settings) {
  const size = layout.width * layout.height;
  let mean = meanWindow(
    bands.map((band) => crop(band, layout, 0, 0)),
    size,
  );
  for (let round = 0; round < settings.referenceRounds; round += 1) {
    mean = meanWindow(
      bands.map((band) => {
        const { dx, dy } = integerShift(band, mean, layout, settings);
        return crop(band, layout, dx, dy);
      }),
      size,
    );
  }
  return mean;
}
