/**
 * The one wall-clock check of ingest: refuse events stamped implausibly far in the future.
 * Detection itself runs on event time only; this guards it against a producer with a broken clock.
 */
import { createError, type ChangewatchError } from '../errors.ts';

/** Returns an error when `timestamp` is more than `maxFutureSkewMs` ahead of `now`; catalog entries (no timestamp) pass. */
export function checkFutureSkew(timestamp: number | null, now: number, maxFutureSkewMs: number): ChangewatchError | undefined {
  if (timestamp === null || timestamp - now <= maxFutureSkewMs) return undefined;
  return createError('CW_EVENT_TIMESTAMP', `event time ${new Date(timestamp).toISOString()} is ${Math.round((timestamp - now) / 1000)} s in the future (limit ${Math.round(maxFutureSkewMs / 1000)} s)`);
}
