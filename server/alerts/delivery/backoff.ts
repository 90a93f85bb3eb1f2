/**
 * Retry delays: capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"), so receivers recovering from an outage are not hit by synchronized retries.
 */

/** Bounds of the backoff. */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** Ceiling of any delay. */
  maxMs: number;
}

/** A source of uniform random numbers in [0, 1); injectable so tests are deterministic. */
export type RandomSource = () => number;

/**
 * Delay before the next attempt after `failures` consecutive failed attempts (1 for the first):
 * uniform in [0, min(maxMs, baseMs * 2^(failures-1))).
 */
export function fullJitterDelay(failures: number, policy: BackoffPolicy, random: RandomSource): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30); // 2^30 already exceeds any sane cap
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/** A small seeded generator (mulberry32) for reproducible jitter in tests and simulations. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
