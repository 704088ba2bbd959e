// Moving average of the last N gaze points.

/** A fixed-size window of [x, y] points whose mean is the smoothed gaze. */
export class MovingAverage {
  constructor(size) {
    this.size = Math.max(1, Math.floor(size));
    this.xs = new Float64Array(this.size);
    this.ys = new Float64Array(this.size);
    this.count = 0;
    this.next = 0;
  }

  /** Add a point and return the mean [x, y] of the window. */
  push([x, y]) {
    this.xs[this.next] = x;
    this.ys[this.next] = y;
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
    let sumX = 0;
    let sumY = 0;
    for (let i = 0; i < this.count; i += 1) {
      sumX += this.xs[i];
      sumY += this.ys[i];
    }
    return [sumX / this.count, sumY / this.count];
  }

  /** Forget every point (a new camera session starts from scratch). */
  reset() {
    this.count = 0;
    this.next = 0;
  }
}
