/**
 * The one error renderer of the HTTP API: every route's failure reaches the app's error middleware,
 * which answers `{ error: { code, message, details } }` with the code's HTTP status from the
 * registry (server/errors.ts). Body-parser and router failures get registry codes too; anything
 * else is a bug, logged and answered `CW_INTERNAL`. A client error (4xx) is the caller's mistake and
 * is logged at debug only, without a stack; a failure of the service is logged at error with its stack.
 */
import type { ErrorRequestHandler } from 'express';
import { createError, isChangewatchError, type ChangewatchError } from '../errors.ts';
import { errorSummary, type Logger } from '../log.ts';

/** What `express.json()` throws: an http-errors object with a `type` naming the failure. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * The registered error a request failed with, or `undefined` for an unexpected one (a bug): an
 * unparseable JSON body is `CW_EVENT_INVALID_JSON` and an oversized one `CW_EVENT_TOO_LARGE` on every
 * route, and a malformed %-escape in the path `CW_BAD_REQUEST`.
 */
export function toChangewatchError(error: unknown): ChangewatchError | undefined {
  if (isChangewatchError(error)) return error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status, expose, message } = error as BodyParserError;
  const detail = typeof message === 'string' ? message : String(type);
  if (type === 'entity.too.large') return createError('CW_EVENT_TOO_LARGE', detail);
  if (type === 'entity.parse.failed') return createError('CW_EVENT_INVALID_JSON', `request body is not valid JSON: ${detail}`);
  const clientStatus = typeof status === 'number' && status >= 400 && status < 500;
  // Other client-side body failures (unsupported charset or encoding, aborted upload, and a
  // Content-Encoding that does not decode: body-parser passes zlib's error on with status 400 and
  // `expose` but no `type`).
  if (expose === true && clientStatus) {
    return createError('CW_BAD_REQUEST', `request body refused: ${detail}`);
  }
  // The router's URIError (status 400) for a path parameter with a malformed %-escape, e.g. /incidents/%E0.
  if (error instanceof URIError && clientStatus) return createError('CW_BAD_REQUEST', `request path refused: ${detail}`);
  return undefined;
}

/** HTTP status of a dependency being down (Kafka, the database): the client retries later, nothing in the handler broke. */
const SERVICE_UNAVAILABLE = 503;

/** Express error middleware rendering every failure as a registry error; install it last, once, on the app. */
export function renderErrors(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    // Too late for a JSON body: express's default handler closes the connection.
    if (res.headersSent) return next(err);
    const where = { method: req.method, url: req.originalUrl };
    let error = toChangewatchError(err);
    if (error === undefined) {
      log.error({ err, ...where }, 'unhandled error in HTTP handler');
      error = createError('CW_INTERNAL', 'internal error; see the server log');
    } else if (error.statusCode < 500) {
      // A client error (isClientError in server/log.ts): the response tells the caller; nothing to fix here.
      log.debug({ ...where, statusCode: error.statusCode, ...errorSummary(error) }, 'HTTP request refused');
    } else if (error.statusCode === SERVICE_UNAVAILABLE) {
      // The component that lost the dependency logs why; one warning per refused request, no stack.
      const cause = error.cause instanceof Error ? { cause: error.cause.message } : {};
      log.warn({ ...where, statusCode: error.statusCode, ...errorSummary(error), ...cause }, 'HTTP request refused: a dependency is unavailable');
    } else {
      log.error({ err: error, ...where }, 'HTTP request failed');
    }
    res.status(error.statusCode).json(error.toJSON());
  };
}
