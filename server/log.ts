/**
 * Structured logging (pino), how an error is told apart for the log (a client's mistake at info
 * without a stack, a failure at error with one), and a rate limiter that keeps bad input from
 * flooding the log.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { isChangewatchError, type ChangewatchError, type ErrorCode } from './errors.ts';

export type { Logger } from 'pino';

/**
 * Creates the process logger, writing to `destination` (tests read their lines from one) or else to
 * stdout: JSON lines when stdout is piped or redirected (log shippers, `npm start | cat`), readable
 * lines (`readableLog`) when it is a terminal. Secrets must never be passed to it (they are not
 * redacted after the fact).
 */
export function createLogger(level: string, name = 'changewatch', destination?: DestinationStream): Logger {
  const options = { name, level, base: { name } };
  if (destination !== undefined) return pino(options, destination);
  return process.stdout.isTTY ? pino(options, readableLog(process.stdout)) : pino(options);
}

/** pino's numeric levels by name, as `formatLogLine` prints them. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, printed in the line's head rather than as `key=value`. */
const HEAD_FIELDS = new Set(['level', 'time', 'name', 'component', 'msg', 'pid', 'hostname', 'err']);

/** A pino destination that writes each JSON line to `out` as `formatLogLine` prints it. */
export function readableLog(out: { write(text: string): unknown }): DestinationStream {
  return {
    write(chunk: string) {
      // pino writes one line per call; splitting keeps a batched write readable too.
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${formatLogLine(line)}\n`);
    },
  };
}

/**
 * One pino JSON line as a person reads it: `23:41:07.512 WARN  delivery: message key=value ...`, an
 * error's message and stack indented below. A line that is not pino JSON is returned as it is.
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object' || typeof entry.level !== 'number') return line;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = (LEVEL_NAMES[entry.level] ?? `L${entry.level}`).padEnd(5);
  const source = typeof entry.component === 'string' ? entry.component : typeof entry.name === 'string' ? entry.name : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  let text = `${time} ${level} ${source ? `${source}: ` : ''}${typeof entry.msg === 'string' ? entry.msg : ''}${fields.length ? ` ${fields.join(' ')}` : ''}`;
  const err = entry.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === 'object') {
    const detail = typeof err.stack === 'string' ? err.stack : typeof err.message === 'string' ? err.message : JSON.stringify(err);
    text += `\n${detail.replace(/^/gm, '    ')}`;
  }
  return text;
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
