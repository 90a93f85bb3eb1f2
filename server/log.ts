/**
 * Structured logging (pino) and a rate limiter that keeps bad input from flooding the log.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Creates the process logger; secrets must never be passed to it (they are not redacted after the fact). */
export function createLogger(level: string, name = 'changewatch'): Logger {
  return pino({ name, level, base: { name } });
}

/**
 * Logs at most `perWindow` lines per key per window and then one summary of how many were skipped,
 * so a producer sending garbage at 10k/s costs a few log lines a minute, not 10k.
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; logged: number; suppressed: number }>();

  constructor(
    private readonly log: Pick<Logger, 'warn'>,
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs a warning under `key` unless that key's budget for the current window is spent. */
  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (w?.suppressed) this.log.warn({ key, suppressed: w.suppressed }, `suppressed ${w.suppressed} similar warnings in the last window`);
      w = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.logged < this.perWindow) {
      w.logged++;
      this.log.warn({ key, ...fields }, message);
    } else {
      w.suppressed++;
    }
  }
}
