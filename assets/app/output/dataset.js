// Face crops kept with the screen point they looked at (calibrations and
// recordings of this page session), exported in the project's dataset
// format (docs: reference/dataset.md), which `gazesite train --data` reads.

// btoa takes a binary string; String.fromCharCode(...bytes) on megabytes
// overflows the call stack, so bytes go through in chunks. A multiple of 3
// bytes encodes to base64 without padding, so the pieces join into one string.
const BASE64_CHUNK = 3 * 8192;

/** Base64 of a Uint8Array, chunk by chunk (same text as one btoa over all bytes). */
export function base64(bytes) {
  const parts = [];
  for (let start = 0; start < bytes.length; start += BASE64_CHUNK) {
    parts.push(btoa(String.fromCharCode.apply(null, bytes.subarray(start, start + BASE64_CHUNK))));
  }
  return parts.join('');
}

const clamp01 = (value) => Math.min(1, Math.max(0, value));

export class Dataset {
  /** `cropSize`, `pipelineVersion` and `modelHash` come from the build's config; `onChange(count)` hears every addition. */
  /** `format` is the build's {name, version} of the dataset format (gazesite.model.dataset). */
  constructor({ format, cropSize, pipelineVersion, modelHash, onChange = () => {} }) {
    Object.assign(this, { format, cropSize, pipelineVersion, modelHash, onChange });
    this.crops = [];
    this.targets = [];
    this.parts = [];
  }

  /** How many crops are kept. */
  get count() {
    return this.crops.length;
  }

  /**
   * Keep one batch of frames ({crop: Uint8Array, target: [x, y]}, targets in
   * screen fractions, clamped into 0..1 as the format requires) under a
   * `kind` ("calibration", "recording") that the export lists.
   */
  add(frames, kind) {
    const size = this.cropSize * this.cropSize;
    const kept = frames.filter(({ crop }) => crop?.length === size);
    for (const { crop, target } of kept) {
      this.crops.push(crop);
      this.targets.push([clamp01(target[0]), clamp01(target[1])]);
    }
    if (kept.length === 0) return;
    this.parts.push({ kind, count: kept.length, created: new Date().toISOString() });
    this.onChange(this.count);
  }

  /** The dataset document; `screen` is {width, height} in CSS px. */
  toJSON(screen) {
    const size = this.cropSize * this.cropSize;
    const bytes = new Uint8Array(this.count * size);
    this.crops.forEach((crop, i) => bytes.set(crop, i * size));
    return {
      format: this.format.name,
      version: this.format.version,
      crop_size: this.cropSize,
      count: this.count,
      crops: base64(bytes),
      targets: this.targets.map(([x, y]) => [round6(x), round6(y)]),
      metadata: {
        source: 'browser',
        pipeline_version: this.pipelineVersion,
        screen: { width: screen.width, height: screen.height },
        model_hash: this.modelHash,
        created: new Date().toISOString(),
        parts: this.parts,
      },
    };
  }
}

// Six decimals, as the Python writer stores them: far below a pixel.
function round6(value) {
  return Math.round(value * 1e6) / 1e6;
}
