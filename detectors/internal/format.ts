/** Number formatting for the one-line reasons detectors give. */

/** Formats a value with three significant digits, integers as they are, huge and tiny ones in exponent form. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const magnitude = Math.abs(x);
  if (magnitude !== 0 && (magnitude >= 1e9 || magnitude < 1e-4)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/** Formats "1 in N" for a tail surprise `u = -log10(p)`, e.g. "1 in 12,000". */
export function formatRarity(surprise: number): string {
  const digits = String(Math.round(10 ** Math.min(surprise, 15)));
  // Thousands separators by hand: toLocaleString is slow enough to show up in the hot path.
  return `1 in ${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
}
