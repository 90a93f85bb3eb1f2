/** Guards shared by every detector against values that would break arithmetic. */

/** Values are clamped to ±this before any arithmetic, so differences stay finite and fit Float32 state. */
export const MAX_MAGNITUDE = 1e30;

/** Clamps a finite value into ±`MAX_MAGNITUDE`. */
export function clampMagnitude(x: number): number {
  return x > MAX_MAGNITUDE ? MAX_MAGNITUDE : x < -MAX_MAGNITUDE ? -MAX_MAGNITUDE : x;
}

/** Returns `x` if it is a finite number in [0, 1], else 0: the last line of defence for scores. */
export function safeScore(x: number): number {
  return x >= 0 && x <= 1 ? x : x > 1 ? 1 : 0;
}
