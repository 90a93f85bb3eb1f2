/**
 * How evidence lines write durations, times and ratios.
 */

const MINUTE = 60_000;

/** "40 s", "12 min", "3.5 h". */
export function duration(ms: number): string {
  if (ms < MINUTE) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / MINUTE)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Event time as HH:MM:SS UTC. */
export function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

/** "9.3×", "12×". */
export function ratioText(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}×`;
}
