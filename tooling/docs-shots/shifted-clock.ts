/**
 * Sets this process's `Date.now` back (or forward) to a fixed instant, from which it keeps running at
 * the real rate: the screenshot scene's wall-clock stamps (incidents, rollback deadlines, the change
 * failure rates' window) then fall at the same simulated times on every run. `new Date()` without an
 * argument still reads the real clock; the server stamps what the dashboard shows with `Date.now`.
 */

/** Makes `Date.now()` return `at` now and advance in step with the real clock; returns the function that restores it. */
export function runClockFrom(at: number): () => void {
  const realNow = Date.now;
  const offset = at - realNow();
  Date.now = () => realNow() + offset;
  return () => {
    Date.now = realNow;
  };
}
