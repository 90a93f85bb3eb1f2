/**
 * Seeded randomness for the sensitivity benchmark: a small PRNG, a hash to derive independent streams
 * (per seed, per case, per point) and the few distributions the generator needs. No `Math.random`, so a
 * run is reproducible from its seeds.
 */
import { seededRandom } from '../../server/alerts/delivery/backoff.ts';

/** A uniform draw in [0, 1). */
export type Rng = () => number;

/** Mixes integers (and strings, by their characters) into one 32-bit seed; equal inputs give equal seeds. */
export function hashSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? String(part) : part;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x2f, 0x01000193);
  }
  return h >>> 0;
}

/** The mulberry32 generator seeded with `seed`: fast, 32-bit state, good enough for Monte Carlo (the delivery backoff's). */
export const mulberry32: (seed: number) => Rng = seededRandom;

/** One of `items`, uniformly. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.min(items.length - 1, Math.floor(rng() * items.length))]!;
}

/** A uniform draw in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** A log-uniform draw in [lo, hi): as likely to be 50–100 as 250–500. */
export function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));
}

/** The standard normal quantile of `u` in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(u: number): number {
  const p = Math.min(1 - 1e-12, Math.max(1e-12, u));
  const a = [-39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * A Binomial(n, p) draw from one uniform `u` by inversion (exact for n·p < 40, a rounded normal
 * approximation above), so the same `u` gives a count that grows with `p`: a changed series and its
 * no-change twin share their randomness point by point.
 */
export function binomial(n: number, p: number, u: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean < 40) {
    const ratio = p / (1 - p);
    let pmf = Math.pow(1 - p, n);
    let cdf = pmf;
    let k = 0;
    while (cdf < u && k < n) {
      pmf *= ((n - k) / (k + 1)) * ratio;
      k++;
      cdf += pmf;
    }
    return k;
  }
  const k = Math.round(mean + Math.sqrt(mean * (1 - p)) * normalQuantile(u));
  return Math.min(n, Math.max(0, k));
}
