/** Number formatting for the one-line reasons detectors give. */

/** Formats a value with three significant digits, integers as they are, huge and tiny ones in exponent form. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const magnitude = Math.abs(x);
  if (magnitude !== 0 && (magnitude >= 1e9 || magnitude < 1e-4)) return x.toExponential(2);
  return String(Number(x.toPrecision(3)));
}

/**
 * A tail surprise `u = -log10(p)` as a person says it, for the reasons alerts show: "seen less than
 * once in 88,000 readings", "seen less than once in 1.2 million readings". Two significant digits:
 * the tail is an estimate, and "1 in 87,758" claims a precision it does not have. Words only: the
 * score and every decision use `surprise` itself.
 */
export function rarityInWords(surprise: number): string {
  const count = 10 ** Math.min(Math.max(surprise, 0), 15);
  if (count < 2) return 'not unusual for this series';
  return `seen less than once in ${countInWords(count)} readings`;
}

/** 88,000 → "88,000"; 1,234,567 → "1.2 million"; 3.4e9 → "3.4 billion"; two significant digits. */
function countInWords(count: number): string {
  const rounded = Number(count.toPrecision(2));
  for (const [size, word] of [[1e12, 'trillion'], [1e9, 'billion'], [1e6, 'million']] as const) {
    if (rounded >= size) return `${Number((rounded / size).toPrecision(2))} ${word}`;
  }
  return String(rounded).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
