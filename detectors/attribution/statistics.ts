/**
 * The two significance tests attribution uses, as one-sided p-values that never throw.
 */
import { cumulativeStdNormalProbability, wilcoxonRankSum } from 'simple-statistics';

/** One-sided p-value that `after` is shifted above `before` (Wilcoxon rank-sum, normal approximation); 1 without data. */
export function rankShiftPValue(before: readonly number[], after: readonly number[]): number {
  const n1 = after.length;
  const n2 = before.length;
  if (n1 < 2 || n2 < 2) return 1;
  const rankSum = wilcoxonRankSum([...after], [...before]);
  const mean = (n1 * (n1 + n2 + 1)) / 2;
  const sd = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  return upperTail((rankSum - mean) / sd);
}

/** One-sided p-value that failure proportion a (errorsA of totalA) exceeds b's (pooled two-proportion z-test). */
export function proportionExcessPValue(errorsA: number, totalA: number, errorsB: number, totalB: number): number {
  if (totalA <= 0 || totalB <= 0) return 1;
  const pooled = (errorsA + errorsB) / (totalA + totalB);
  const spread = Math.sqrt(pooled * (1 - pooled) * (1 / totalA + 1 / totalB));
  if (!(spread > 0)) return 1;
  return upperTail((errorsA / totalA - errorsB / totalB) / spread);
}

/** P(Z ≥ z) for a standard normal Z. */
function upperTail(z: number): number {
  if (!Number.isFinite(z)) return z > 0 ? 0 : 1;
  // The library's table stops at |z| = 3.09; beyond it use the Mills-ratio tail, which is tight there.
  if (z > 3) return Math.exp((-z * z) / 2) / (z * Math.sqrt(2 * Math.PI));
  return 1 - cumulativeStdNormalProbability(z);
}

/** "p < 0.001" or "p = 0.03", the way evidence lines quote significance. */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}
