// A fixed-bucket histogram of durations in seconds. Observing is a few comparisons and two
// additions on preallocated numbers; the Prometheus exposition reads the buckets when scraped.

/** Upper bounds in seconds: request handling in a tracker takes microseconds, rarely more. */
export const DURATION_BUCKETS: readonly number[] = [
  1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 0.025, 0.1, 1,
];

export class DurationHistogram {
  readonly bounds: readonly number[];
  /** Per bucket, not cumulative; the last slot counts observations above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[] = DURATION_BUCKETS) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }

  /** Mean in nanoseconds, 0 before the first observation. */
  meanNs(): number {
    return this.count === 0 ? 0 : (this.sum / this.count) * 1e9;
  }
}

/**
 * Samples one request in `1 << shift`: timing every request would cost more than a cheap
 * request itself. Durations are therefore estimates from a sample; counts of requests are
 * always exact and kept elsewhere.
 */
export class Sampler {
  private tick = 0;
  private readonly mask: number;
  constructor(shift = 4) {
    this.mask = (1 << shift) - 1;
  }
  next(): boolean {
    return (++this.tick & this.mask) === 0;
  }
}
