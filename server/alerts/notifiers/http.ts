/**
 * One HTTP POST with a timeout, classified into a `DeliveryOutcome`: the only place notifiers touch
 * the network, so retry classification and secret redaction are the same for every endpoint type.
 */
import type { DeliveryOutcome } from './types.ts';
import { Redactor, safeOrigin } from './redact.ts';

/** One request to send. */
export interface PostRequest {
  url: string;
  /** Serialized body (signatures cover these exact bytes). */
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Aborts the attempt early (worker shutdown). */
  signal?: AbortSignal;
  /** Scrubs this endpoint's secrets from reasons. */
  redactor: Redactor;
}

/** Longest slice of a response body kept in a failure reason. */
const MAX_BODY_IN_REASON = 200;

/** Sends `request` and classifies the response or failure; never throws. */
export async function post(request: PostRequest, now: () => number = Date.now): Promise<DeliveryOutcome> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const where = safeOrigin(request.url);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'changewatch', ...request.headers },
      body: request.body,
      signal,
      redirect: 'error',
    });
  } catch (error) {
    if (request.signal?.aborted) return { ok: false, retryable: true, aborted: true, reason: `aborted (shutting down) while posting to ${where}` };
    if (timeout.aborted) return { ok: false, retryable: true, reason: `no response from ${where} within ${request.timeoutMs} ms` };
    return { ok: false, retryable: true, reason: request.redactor.redact(`cannot reach ${where}: ${describeNetworkError(error)}`) };
  }

  // Read (and so release) the body in every case; a receiver that stalls mid-body hits the timeout.
  let text: string;
  try {
    text = await response.text();
  } catch {
    text = '';
  }
  if (response.ok) return { ok: true, status: response.status };

  const excerpt = text.length > MAX_BODY_IN_REASON ? `${text.slice(0, MAX_BODY_IN_REASON)}…` : text;
  const reason = request.redactor.redact(`HTTP ${response.status} from ${where}${excerpt ? `: ${excerpt.replace(/\s+/g, ' ').trim()}` : ''}`);
  const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
  if (!retryable) return { ok: false, retryable, reason };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
  return retryAfterMs === undefined ? { ok: false, retryable, reason } : { ok: false, retryable, retryAfterMs, reason };
}

/**
 * A `Retry-After` header in milliseconds from `now`: delay-seconds or an HTTP-date. Dates in the
 * past mean "now" (0); anything unparseable is ignored.
 */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** `fetch failed` hides the real cause (ECONNREFUSED, ENOTFOUND...) one level down. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
    return code ?? cause.message;
  }
  return error.message;
}
