/**
 * The registry of stable changewatch error codes, Fastify-style: every error the service reports to
 * a client, a log line or a dead-letter record carries one of these codes, which never get renamed.
 * HTTP handlers render a `ChangewatchError` as `{ error: { code, message, details } }` (server/http/errors.ts).
 */

/** Description and HTTP status of one registered error code. */
export interface ErrorCodeInfo {
  /** HTTP status returned when this error reaches an API client. */
  statusCode: number;
  /** One line saying when this error happens. */
  description: string;
}

/**
 * Every error code changewatch emits. Codes are part of the public API: add new ones freely, but
 * never rename or reuse one, since clients and dashboards match on them.
 */
export const ERROR_CODES = {
  CW_INTERNAL: { statusCode: 500, description: 'An unexpected internal error; the details are in the server log.' },
  CW_CONFIG_INVALID: { statusCode: 500, description: 'The configuration file or environment is invalid.' },
  CW_EVENT_INVALID_JSON: { statusCode: 400, description: 'An incoming event or an API request body is not valid JSON.' },
  CW_EVENT_SCHEMA: { statusCode: 400, description: 'An incoming event does not match its schema.' },
  CW_EVENT_TOO_LARGE: { statusCode: 413, description: 'An incoming event exceeds the maximum accepted size.' },
  CW_EVENT_TIMESTAMP: { statusCode: 400, description: 'An incoming event has a missing, unparseable or implausible timestamp.' },
  CW_EVENT_LATE: { statusCode: 400, description: 'An incoming event arrived after its window was closed (beyond the allowed lateness).' },
  CW_SERIES_LIMIT: { statusCode: 429, description: 'A point would start a new series while pipeline.maxSeries series are already tracked.' },
  CW_CLOUDEVENT_INVALID: { statusCode: 400, description: 'A CloudEvent on the changes topic or POST /api/v1/events is malformed: a required attribute is missing, its data is not JSON, or its CDEvent does not match the schema of its type.' },
  CW_CLOUDEVENT_UNSUPPORTED: { statusCode: 400, description: 'A well-formed CloudEvent that changewatch does not take: not specversion 1.0, not a CDEvent, a CDEvent type it does not map, or a major version it does not know.' },
  CW_NOTIFY_FAILED: { statusCode: 502, description: 'A notification could not be delivered to its endpoint.' },
  CW_NOTIFY_DEAD: { statusCode: 502, description: 'A notification exhausted its attempts or maximum age and was marked dead.' },
  CW_NOTIFY_CIRCUIT_OPEN: { statusCode: 503, description: 'An endpoint circuit breaker is open after repeated failures; delivery is paused.' },
  CW_NOTIFY_CONFIG: { statusCode: 500, description: 'A notifier configuration block is invalid (unknown type, bad URL, malformed secret).' },
  CW_WEBHOOK_SIGNATURE: { statusCode: 401, description: 'A Standard Webhooks signature is missing, malformed, stale or does not verify.' },
  CW_KAFKA_UNAVAILABLE: { statusCode: 503, description: 'Kafka is not connected or did not acknowledge a produce; nothing is lost by retrying later.' },
  CW_STORE_UNAVAILABLE: { statusCode: 503, description: 'The database could not be opened or reached.' },
  CW_STORE_MIGRATION: { statusCode: 500, description: 'A schema migration failed or the database schema is newer than this build.' },
  CW_STORE_QUERY: { statusCode: 500, description: 'A database query failed.' },
  CW_STORE_CONFLICT: { statusCode: 409, description: 'A write conflicts with the stored state (for example a duplicate id).' },
  CW_STORE_CLOSED: { statusCode: 503, description: 'The store was used after it was closed.' },
  CW_AUTH_UNAUTHORIZED: { statusCode: 401, description: 'No valid API token was presented.' },
  CW_AUTH_FORBIDDEN: { statusCode: 403, description: "The API token's role does not allow this action." },
  CW_NOT_FOUND: { statusCode: 404, description: 'The requested resource does not exist.' },
  CW_BAD_REQUEST: { statusCode: 400, description: 'The request is malformed or its parameters are invalid.' },
  CW_CONFLICT: { statusCode: 409, description: 'The request conflicts with the current state of the resource.' },
  CW_ROLLBACK_NOT_PENDING: { statusCode: 409, description: 'The rollback is no longer awaiting a decision; details.decidedBy, details.decidedAt and details.decision say who decided it, when and how (re-sending your own decision is not an error: it answers 200 with it).' },
  CW_ROLLBACK_EXPIRED: { statusCode: 409, description: 'The rollback approval window has passed; it can no longer be approved.' },
  CW_ROLLBACK_NO_WEBHOOK: { statusCode: 409, description: 'No rollback.webhook is configured, so an approved rollback would have nowhere to go; roll back by hand.' },
  CW_KILL_SWITCH_ENGAGED: { statusCode: 409, description: 'The automation kill switch is on, so no rollback may be approved or sent.' },
  CW_FREEZE_NOT_ACTIVE: { statusCode: 409, description: 'The freeze is already lifted; details.decidedBy and details.decidedAt say who lifted it and when (lifting again a freeze you lifted answers 200).' },
  CW_OTLP_DECODE: { statusCode: 400, description: 'An OTLP metrics payload is not a protobuf or OTLP/JSON ExportMetricsServiceRequest (as its encoding or Content-Type says).' },
  CW_OTLP_NO_SERVICE: { statusCode: 400, description: 'An OTLP resource has no service.name attribute, so its metrics belong to no service; they are refused.' },
  CW_OTLP_UNSUPPORTED: { statusCode: 400, description: 'An OTLP metric has a shape changewatch does not map (no data, unspecified temporality, a delta non-monotonic sum); docs/otel.md lists what is mapped.' },
  CW_UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, description: 'The request body has a Content-Type the route does not accept (POST /v1/metrics: application/x-protobuf or application/json).' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A registered error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code, the HTTP status it maps to and optional structured details. */
export class ChangewatchError extends Error {
  /** The stable error code from `ERROR_CODES`. */
  readonly code: ErrorCode;
  /** HTTP status for API responses. */
  readonly statusCode: number;
  /** Structured, secret-free context for clients and logs. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChangewatchError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].statusCode;
    this.details = details;
  }

  /** The body HTTP handlers send: `{ error: { code, message, details } }`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** Creates a `ChangewatchError` for a registered code. */
export function createError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  options?: ErrorOptions,
): ChangewatchError {
  return new ChangewatchError(code, message, details, options);
}

/** True when `error` is a `ChangewatchError`, optionally with the given code. */
export function isChangewatchError(error: unknown, code?: ErrorCode): error is ChangewatchError {
  return error instanceof ChangewatchError && (code === undefined || error.code === code);
}

/** The registry as a table (code, status, description), for docs and the API's error listing. */
export function describeErrorCodes(): Array<{ code: ErrorCode; statusCode: number; description: string }> {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, ...ERROR_CODES[code] }));
}
