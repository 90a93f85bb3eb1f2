/**
 * The one error renderer of the HTTP API: every route's failure reaches the app's error middleware,
 * which answers `{ error: { code, message, details } }` with the code's HTTP status from the
 * registry (server/errors.ts). Body-parser failures get registry codes too; anything else is a bug,
 * logged and answered `CW_INTERNAL`.
 */
import type { ErrorRequestHandler } from 'express';
import { createError, isChangewatchError, type ChangewatchError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** What `express.json()` throws: an http-errors object with a `type` naming the failure. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * The registered error a request failed with, or `undefined` for an unexpected one (a bug): an
 * unparseable JSON body is `CW_EVENT_INVALID_JSON` and an oversized one `CW_EVENT_TOO_LARGE` on every route.
 */
export function toChangewatchError(error: unknown): ChangewatchError | undefined {
  if (isChangewatchError(error)) return error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status, expose, message } = error as BodyParserError;
  const detail = typeof message === 'string' ? message : String(type);
  if (type === 'entity.too.large') return createError('CW_EVENT_TOO_LARGE', detail);
  if (type === 'entity.parse.failed') return createError('CW_EVENT_INVALID_JSON', `request body is not valid JSON: ${detail}`);
  // Other client-side body failures (unsupported charset or encoding, aborted upload).
  if (typeof type === 'string' && expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    return createError('CW_BAD_REQUEST', `request body refused: ${detail}`);
  }
  return undefined;
}

/** Express error middleware rendering every failure as a registry error; install it last, once, on the app. */
export function renderErrors(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // Too late for a JSON body: express's default handler closes the connection.
    if (res.headersSent) return next(err);
    let error = toChangewatchError(err);
    if (error === undefined) {
      log.error({ err, method: req.method, url: req.originalUrl }, 'unhandled error in HTTP handler');
      error = createError('CW_INTERNAL', 'internal error; see the server log');
    }
    res.status(error.statusCode).json(error.toJSON());
  };
}
