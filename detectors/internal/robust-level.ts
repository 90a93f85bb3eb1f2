/**
 * A robust exponentially weighted level and spread, the baseline most detectors build on.
 *
 * The level is an EWMA whose input residual is clipped at `clip` spreads (Huber style), so a spike barely
 * moves it while a lasting shift is followed within a few dozen points. The spread is an EWMA of absolute
 * residuals (≈ 0.8 σ for Gaussian noise), clipped the same way. Slots live in a caller's Float64Array.
 */

/** Float64 slots used by one robust level: level, spread, long-run spread. */
export const LEVEL_SCALARS = 3;

const LEVEL = 0;
const SPREAD = 1;
const LONG_SPREAD = 2;

/** Mean absolute deviation to standard deviation for Gaussian noise (√(π/2)). */
export const ABS_DEVIATION_TO_SIGMA = 1.2533;
/** Horizon (points) of the long-run spread used as a floor when a series goes quiet for a while. */
const LONG_SPREAD_RATE = 0.002;
/** The spread never drops below this fraction of its long-run value. */
const LONG_SPREAD_FLOOR = 0.1;

/** Tuning of a robust level. */
export interface LevelRates {
  /** EWMA rate of the level (1 / horizon in points). */
  level: number;
  /** EWMA rate of the spread. */
  spread: number;
  /** Residuals are clipped at this many spreads before they update level and spread. */
  clip: number;
}

/** Starts a level at the first value seen. */
export function levelInit(s: Float64Array, o: number, x: number): void {
  s[o + LEVEL] = x;
  s[o + SPREAD] = 0;
  s[o + LONG_SPREAD] = 0;
}

/** The current level. */
export function levelValue(s: Float64Array, o: number): number {
  return s[o + LEVEL]!;
}

/**
 * The noise scale in σ units, floored so that quiet stretches and quantized values (`quantum`, the
 * smallest step the series takes) do not make ordinary wiggles look infinitely surprising.
 */
export function levelSigma(s: Float64Array, o: number, quantum: number): number {
  return ABS_DEVIATION_TO_SIGMA * s[o + SPREAD]! + LONG_SPREAD_FLOOR * s[o + LONG_SPREAD]! + 0.5 * quantum + 1e-9 * (1 + Math.abs(s[o + LEVEL]!));
}

/**
 * Learns `x`; `n` is the number of points seen so far (including `x`), used to learn fast at the start.
 */
export function levelLearn(s: Float64Array, o: number, x: number, rates: LevelRates, n: number, quantum: number): void {
  const residual = x - s[o + LEVEL]!;
  const limit = rates.clip * (s[o + SPREAD]! + LONG_SPREAD_FLOOR * s[o + LONG_SPREAD]! + 0.5 * quantum + 1e-12);
  // For the first points there is no spread to clip against yet: follow the data.
  const clipped = n <= 10 ? residual : Math.max(-limit, Math.min(limit, residual));
  const levelRate = Math.max(rates.level, 1 / n);
  const spreadRate = Math.max(rates.spread, 1 / n);
  s[o + LEVEL] = s[o + LEVEL]! + levelRate * clipped;
  const size = Math.min(Math.abs(residual), 2 * limit);
  s[o + SPREAD] = s[o + SPREAD]! + spreadRate * ((n <= 10 ? Math.abs(residual) : size) - s[o + SPREAD]!);
  s[o + LONG_SPREAD] = s[o + LONG_SPREAD]! + Math.max(LONG_SPREAD_RATE, 1 / n) * (Math.abs(residual) - s[o + LONG_SPREAD]!);
}

/** Moves the level to `x` at once (after a confirmed change point), keeping the spread. */
export function levelReset(s: Float64Array, o: number, x: number): void {
  s[o + LEVEL] = x;
}
