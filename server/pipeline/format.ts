/**
 * Small formatting helpers for the one-sentence explanations alerts carry.
 */

/** Formats a metric value compactly: integers as they are, others with 3 significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6 || (abs > 0 && abs < 1e-3)) return value.toExponential(2);
  return value.toPrecision(3);
}

/** Formats an event time as `HH:MM UTC`, the way an on-call engineer reads it. */
export function formatClock(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(11, 16)} UTC`;
}

/** Formats a duration in seconds, minutes or hours. */
export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
