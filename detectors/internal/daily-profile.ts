/**
 * A daily seasonal profile: the typical value for each half hour of the day (UTC), learned by an EWMA
 * per bucket, with the spread of values around it. It lets a detector say "for this time of day".
 *
 * Layout: `PROFILE_BUCKETS` means in a Float32Array; scalars (spread, long-run residual of the profile,
 * long-run residual of a plain level, visits, and which buckets have a value as two 24-bit masks) in a
 * Float64Array.
 */
import { ABS_DEVIATION_TO_SIGMA } from './robust-level.ts';

/** Half-hour buckets of a day. */
const BUCKETS_PER_DAY = 48;
/** Half-hour buckets of a weekday and of a weekend day (UTC): weekends usually look different. */
export const PROFILE_BUCKETS = 2 * BUCKETS_PER_DAY;
/** Float32 slots of one profile. */
export const PROFILE_CELLS = PROFILE_BUCKETS;
/** Float64 slots of one profile. */
export const PROFILE_SCALARS = 8;

const SPREAD = 0;
const PROFILE_RESIDUAL = 1;
const PLAIN_RESIDUAL = 2;
const VISITS = 3;
/** Bit b of the mask at `SEEN + (bucket / 24 | 0)` says whether bucket `24·mask + b` has a value. */
const SEEN = 4;
const MASK_BITS = 24;

const DAY_MS = 86_400_000;
/** Horizon (points) over which the profile's and the plain level's residuals are compared. */
const COMPARISON_RATE = 0.005;

/** Tuning of a daily profile. */
export interface ProfileRates {
  /** EWMA rate of a bucket per visit. */
  bucket: number;
  /** EWMA rate of the spread around the profile. */
  spread: number;
  /** Residuals are clipped at this many spreads when learning. */
  clip: number;
  /** The profile is trusted once its residuals are below this fraction of a plain level's. */
  advantage: number;
}

/** The bucket of an epoch-millisecond timestamp: its half hour, on a weekday or a weekend day. */
export function bucketOf(timestamp: number): number {
  const ms = ((timestamp % DAY_MS) + DAY_MS) % DAY_MS;
  const halfHour = Math.min(BUCKETS_PER_DAY - 1, Math.floor((ms / DAY_MS) * BUCKETS_PER_DAY));
  // 1970-01-01 was a Thursday: day 2 of each week counted from then is Saturday, day 3 Sunday.
  const dayOfWeek = ((Math.floor(timestamp / DAY_MS) % 7) + 7) % 7;
  return dayOfWeek === 2 || dayOfWeek === 3 ? BUCKETS_PER_DAY + halfHour : halfHour;
}

/** Empties a profile. */
export function profileInit(s: Float64Array, o: number, cells: Float32Array, c: number): void {
  s.fill(0, o, o + PROFILE_SCALARS);
  cells.fill(0, c, c + PROFILE_CELLS);
}

/** Whether the bucket has a value yet. */
export function profileKnows(s: Float64Array, o: number, bucket: number): boolean {
  const mask = s[o + SEEN + ((bucket / MASK_BITS) | 0)]!;
  return ((mask >> bucket % MASK_BITS) & 1) === 1;
}

/** The profile's value for a bucket (only meaningful once `profileKnows`). */
export function profileValue(cells: Float32Array, c: number, bucket: number): number {
  return cells[c + bucket]!;
}

/** The noise scale around the profile, in σ units. */
export function profileSigma(s: Float64Array, o: number, quantum: number, level: number): number {
  return ABS_DEVIATION_TO_SIGMA * s[o + SPREAD]! + 0.5 * quantum + 1e-9 * (1 + Math.abs(level));
}

/**
 * Whether the profile explains the series clearly better than a plain level does: it has seen about
 * three days of data and its long-run residuals are below `advantage` times the plain level's.
 */
export function profileActive(s: Float64Array, o: number, rates: ProfileRates): boolean {
  return s[o + VISITS]! > 3 * BUCKETS_PER_DAY && s[o + PROFILE_RESIDUAL]! < rates.advantage * s[o + PLAIN_RESIDUAL]!;
}

/**
 * Learns `x` at `timestamp`; `plainResidual` is how far a plain level missed the same point, so the
 * profile knows whether it is the better model.
 */
export function profileLearn(
  s: Float64Array,
  o: number,
  cells: Float32Array,
  c: number,
  timestamp: number,
  x: number,
  plainResidual: number,
  rates: ProfileRates,
  quantum: number,
): void {
  const bucket = bucketOf(timestamp);
  if (!profileKnows(s, o, bucket)) {
    cells[c + bucket] = x;
    const slot = o + SEEN + ((bucket / MASK_BITS) | 0);
    s[slot] = s[slot]! | (1 << bucket % MASK_BITS);
    return;
  }
  const residual = x - cells[c + bucket]!;
  const visits = s[o + VISITS]! + 1;
  const limit = rates.clip * Math.max(s[o + SPREAD]!, 0.5 * quantum, 1e-12);
  cells[c + bucket] = cells[c + bucket]! + rates.bucket * Math.max(-limit, Math.min(limit, residual));
  const spreadRate = Math.max(rates.spread, 1 / visits);
  s[o + SPREAD] = s[o + SPREAD]! + spreadRate * (Math.min(Math.abs(residual), 2 * limit) - s[o + SPREAD]!);
  s[o + PROFILE_RESIDUAL] = s[o + PROFILE_RESIDUAL]! + COMPARISON_RATE * (Math.abs(residual) - s[o + PROFILE_RESIDUAL]!);
  s[o + PLAIN_RESIDUAL] = s[o + PLAIN_RESIDUAL]! + COMPARISON_RATE * (Math.abs(plainResidual) - s[o + PLAIN_RESIDUAL]!);
  s[o + VISITS] = visits;
}
