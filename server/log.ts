/**
 * Structured logging (pino), how an error is told apart for the log (a client's mistake at info
 * without a stack, a failure at error with one), and a rate limiter that keeps bad input from
 * flooding the log.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { isChangewatchError, type ChangewatchError, type ErrorCode } from './errors.ts';

export type { Logger } from 'pino';

/**
 * Creates the process logger, writing to stdout or to `destination` (tests read their lines from
 * one); secrets must never be passed to it (they are not redacted after the fact).
 */
export function createLogger(level: string, name = 'changewatch', destination?: DestinationStream): Logger {
  const options = { name, level, base: { name } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * Whether `error` is a client's mistake rather than a failure of the service: a registered error
 * whose HTTP status is 4xx (unknown id, conflicting state, bad request, missing token). Log it at
 * info or below with `errorSummary`, never at error with a stack: nothing here needs fixing.
 */
export function isClientError(error: unknown): error is ChangewatchError {
  return isChangewatchError(error) && error.statusCode >= 400 && error.statusCode < 500;
}

/** The log fields of a registered error logged without its stack: its code and message only (no stack, no details). */
export function errorSummary(error: ChangewatchError): { error: { code: ErrorCode; message: string } } {
  return { error: { code: error.code, message: error.message } };
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
