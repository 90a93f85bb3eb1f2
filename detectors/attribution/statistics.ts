/**
 * The two significance tests attribution uses, as one-sided p-values that never throw.
 */
import { cumulativeStdNormalProbability, wilcoxonRankSum } from 'simple-statistics';
import type { RankOrder } from './ring.ts';

/** One-sided p-value that `after` is shifted above `before` (Wilcoxon rank-sum, normal approximation); 1 without data. */
export function rankShiftPValue(before: readonly number[], after: readonly number[]): number {
  const n1 = after.length;
  const n2 = before.length;
  if (n1 < 2 || n2 < 2) return 1;
  return rankSumPValue(wilcoxonRankSum([...after], [...before]), n1, n2);
}

/**
 * `rankShiftPValue` of two time windows of one ring, read in place: the values with
 * afterFrom ≤ time < afterTo against those with beforeFrom ≤ time < beforeTo, both multiplied by
 * `direction` (±1). Equal to `rankShiftPValue` on those windows, bit for bit: the rank sum only
 * depends on the two multisets, and walking the ring's samples in value order (reversed for
 * direction -1, which is the order of the negated values) gives each tie group's size and rank
 * directly, with no copies or sorting per window. Every rank is a multiple of 0.5 far below 2^52, so
 * the sum is exact whatever the order of additions, the same number simple-statistics returns.
 */
export function rankShiftBetween(order: RankOrder, direction: number, beforeFrom: number, beforeTo: number, afterFrom: number, afterTo: number): number {
  const { index, times, values } = order;
  const n = index.length;
  const step = direction > 0 ? 1 : -1;
  let k = direction > 0 ? 0 : n - 1;
  let rankSum = 0;
  let n1 = 0;
  let n2 = 0;
  let rank = 0;
  while (k >= 0 && k < n) {
    const value = values[index[k]!]!;
    let inAfter = 0;
    let inBefore = 0;
    do {
      const time = times[index[k]!]!;
      if (time >= afterFrom && time < afterTo) inAfter++;
      if (time >= beforeFrom && time < beforeTo) inBefore++;
      k += step;
    } while (k >= 0 && k < n && values[index[k]!]! === value);
    const tied = inAfter + inBefore;
    // simple-statistics gives a tie group at 0-based ranks lo..hi the rank (lo + hi) / 2, plus 1.
    if (inAfter) rankSum += inAfter * ((rank + (rank + tied - 1)) / 2 + 1);
    rank += tied;
    n1 += inAfter;
    n2 += inBefore;
  }
  if (n1 < 2 || n2 < 2) return 1;
  return rankSumPValue(rankSum, n1, n2);
}

/** Normal approximation of the rank-sum statistic of a sample of n1 against one of n2. */
function rankSumPValue(rankSum: number, n1: number, n2: number): number {
  const mean = (n1 * (n1 + n2 + 1)) / 2;
  const sd = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  return upperTail((rankSum - mean) / sd);
}

/** Failures and requests of two groups in one stratum (e.g. two versions in the same minute). */
export interface ProportionStratum {
  errorsA: number;
  totalA: number;
  errorsB: number;
  totalB: number;
}

/**
 * Cochran-Mantel-Haenszel test over strata: the one-sided p-value that group A fails more often
 * than group B within the same strata, and the Mantel-Haenszel rate ratio A/B. Stratifying by minute
 * keeps a group that served more traffic during the bad minutes from looking worse (Simpson's paradox).
 */
export function stratifiedProportionTest(strata: readonly ProportionStratum[]): { p: number; ratio: number } {
  let excess = 0;
  let variance = 0;
  let ratioNumerator = 0;
  let ratioDenominator = 0;
  for (const { errorsA, totalA, errorsB, totalB } of strata) {
    const total = totalA + totalB;
    const errors = errorsA + errorsB;
    if (totalA <= 0 || totalB <= 0 || total < 2) continue;
    excess += errorsA - (totalA * errors) / total;
    variance += (totalA * totalB * errors * (total - errors)) / (total * total * (total - 1));
    ratioNumerator += (errorsA * totalB) / total;
    ratioDenominator += (errorsB * totalA) / total;
  }
  const ratio = ratioDenominator > 0 ? ratioNumerator / ratioDenominator : ratioNumerator > 0 ? Infinity : 1;
  return { p: variance > 0 ? upperTail(excess / Math.sqrt(variance)) : 1, ratio };
}

/** P(Z ≥ z) for a standard normal Z. */
function upperTail(z: number): number {
  if (!Number.isFinite(z)) return z > 0 ? 0 : 1;
  // The library's table stops at |z| = 3.09; beyond it use the Mills-ratio tail, which is tight there.
  if (z > 3) return Math.exp((-z * z) / 2) / (z * Math.sqrt(2 * Math.PI));
  return 1 - cumulativeStdNormalProbability(z);
}

/** Median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** "p < 0.001" or "p = 0.03", the way evidence lines quote significance. */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}
