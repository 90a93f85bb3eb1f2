/**
 * Distributions of OTLP histograms (explicit buckets and exponential ones) as one shape: sorted
 * buckets with their bounds and counts. Cumulative histograms are turned into the distribution of one
 * interval by subtracting the previous one bucket by bucket; quantiles are estimated from the buckets
 * by linear interpolation within the bucket the rank falls in (as Prometheus's `histogram_quantile`).
 */

/** One bucket: the values in (lower, upper]; bounds may be infinite for an explicit histogram's end buckets. */
export interface Bucket {
  lower: number;
  upper: number;
  count: number;
}

/** A histogram's observations over some interval. */
export interface Distribution {
  count: number;
  /** Sum of the observations, when the producer sent it. */
  sum?: number;
  /** Smallest and largest observation, when known for exactly this interval. */
  min?: number;
  max?: number;
  /** Sorted by bounds, non-overlapping. */
  buckets: Bucket[];
}

/**
 * The buckets of an explicit-bounds histogram: bucket i holds (bounds[i-1], bounds[i]], the first
 * from −∞ and the last to +∞. Undefined when counts and bounds do not fit together (there must be one
 * more count than bounds, bounds strictly increasing), or there are no buckets at all.
 */
export function explicitBuckets(bounds: readonly number[], counts: readonly number[]): Bucket[] | undefined {
  if (counts.length === 0) return [];
  if (counts.length !== bounds.length + 1) return undefined;
  for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) return undefined;
  if (bounds.some((b) => !Number.isFinite(b)) || counts.some((c) => !(c >= 0))) return undefined;
  return counts.map((count, i) => ({ lower: i === 0 ? -Infinity : bounds[i - 1]!, upper: i === bounds.length ? Infinity : bounds[i]!, count }));
}

/**
 * The buckets of an exponential histogram: at `scale`, positive bucket index i holds
 * (base^i, base^(i+1)] with base = 2^(2^−scale), negative bucket i the mirror image, and the zero
 * bucket the values within the zero threshold (taken as exactly 0). Undefined for a scale outside
 * OTLP's −10..20 or negative counts.
 */
export function exponentialBuckets(
  scale: number,
  zeroCount: number,
  positive: { offset: number; counts: readonly number[] },
  negative: { offset: number; counts: readonly number[] },
): Bucket[] | undefined {
  if (!Number.isInteger(scale) || scale < -10 || scale > 20) return undefined;
  const all = [...positive.counts, ...negative.counts, zeroCount];
  if (all.some((c) => !(c >= 0))) return undefined;
  const base = 2 ** (2 ** -scale);
  const bound = (index: number) => base ** index;
  const buckets: Bucket[] = [];
  for (let i = negative.counts.length - 1; i >= 0; i--) {
    const index = negative.offset + i;
    buckets.push({ lower: -bound(index + 1), upper: -bound(index), count: negative.counts[i]! });
  }
  if (zeroCount > 0) buckets.push({ lower: 0, upper: 0, count: zeroCount });
  for (let i = 0; i < positive.counts.length; i++) {
    const index = positive.offset + i;
    buckets.push({ lower: bound(index), upper: bound(index + 1), count: positive.counts[i]! });
  }
  return buckets;
}

/**
 * `current` minus `previous`, the distribution of what was observed between two cumulative points,
 * or undefined when `current` cannot follow `previous` (the stream was reset: a smaller count or
 * bucket count, or buckets that changed). min and max cannot be subtracted and are left out.
 */
export function subtract(current: Distribution, previous: Distribution): Distribution | undefined {
  if (current.count < previous.count) return undefined;
  const before = new Map<string, number>();
  for (const b of previous.buckets) if (b.count > 0) before.set(`${b.lower}:${b.upper}`, b.count);
  const buckets: Bucket[] = [];
  for (const b of current.buckets) {
    const key = `${b.lower}:${b.upper}`;
    const was = before.get(key) ?? 0;
    if (b.count < was) return undefined;
    before.delete(key);
    buckets.push({ lower: b.lower, upper: b.upper, count: b.count - was });
  }
  // A bucket that held observations before and is gone now: the buckets changed (rescaled, reconfigured).
  if (before.size > 0) return undefined;
  const out: Distribution = { count: current.count - previous.count, buckets };
  if (current.sum !== undefined && previous.sum !== undefined) out.sum = current.sum - previous.sum;
  return out;
}

/**
 * The q-quantile (0 < q < 1) estimated from the buckets, or undefined without observations. Within
 * the bucket holding the rank, values are taken as spread evenly. A known min or max narrows the bucket
 * it falls in; without them the lowest bucket starts at 0 (or at its upper bound when that is not
 * positive) and the open-ended highest answers its lower bound, as Prometheus does. Clipped to [min, max] when known.
 */
export function quantile(dist: Distribution, q: number): number | undefined {
  const total = dist.buckets.reduce((n, b) => n + b.count, 0);
  if (!(total > 0)) return undefined;
  const rank = q * total;
  let seen = 0;
  let estimate: number | undefined;
  for (const b of dist.buckets) {
    if (b.count === 0) continue;
    if (seen + b.count >= rank) {
      let { lower, upper } = b;
      // Known min and max narrow the bucket they fall in (and close the open-ended ones).
      if (dist.min !== undefined && dist.min > lower) lower = Math.min(dist.min, upper);
      if (dist.max !== undefined && dist.max < upper) upper = Math.max(dist.max, lower);
      if (lower === -Infinity) lower = upper > 0 ? 0 : upper;
      if (upper === Infinity) upper = lower;
      estimate = lower + (upper - lower) * Math.max(0, Math.min(1, (rank - seen) / b.count));
      break;
    }
    seen += b.count;
  }
  if (estimate === undefined) return undefined;
  if (dist.min !== undefined && estimate < dist.min) estimate = dist.min;
  if (dist.max !== undefined && estimate > dist.max) estimate = dist.max;
  return estimate;
}
