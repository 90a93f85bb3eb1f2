/**
 * The dashboard's one client for the server's HTTP API: the incident list and the deep-linked alert,
 * incident or change it reads, and the
 * operator actions people take (acknowledge and resolve incidents, create and expire silences,
 * approve and deny rollbacks, flip the kill switch, lift freezes). Every request carries the session's API token as a Bearer token
 * when there is one; errors come back as a typed {@link ApiError} decoded from the server's
 * `{ error: { code, message, details } }` envelope.
 */
import type { Alert } from '../../../contract/alert.ts';
import type { Freeze, KillSwitchState, RollbackView } from '../../../contract/automation.ts';
import type { ChangeEvent } from '../../../contract/events.ts';
import type { Incident, IncidentStatus } from '../../../contract/incident.ts';
import type { SeriesPointsResponse } from '../../../contract/series.ts';
import type { AuditEntryView, WhoAmI } from '../../../contract/session.ts';
import { formatAbsoluteTime } from './format.ts';
import type { Silence, SilenceInput } from './silences.ts';

/** Code of an {@link ApiError} for a request that never got an answer (server down, network gone). */
export const NETWORK_ERROR = 'CW_CLIENT_NETWORK';
/** Code of an {@link ApiError} for an answer the dashboard cannot read (not the documented shape). */
export const BAD_RESPONSE = 'CW_CLIENT_BAD_RESPONSE';
/** Code of an {@link ApiError} raised before sending, for input the server would refuse anyway. */
export const INVALID_INPUT = 'CW_CLIENT_INVALID';

/** A failed API call: the HTTP status (0 when there was no answer), the server's stable code and its message. */
export class ApiError extends Error {
  /** HTTP status of the answer; 0 when the request never got one. */
  readonly status: number;
  /** The server's stable error code (e.g. `CW_ROLLBACK_NOT_PENDING`), or one of the `CW_CLIENT_*` codes above. */
  readonly code: string;
  /** Structured context the server sent, if any. */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes a failed response's error envelope; a body that is not one still yields a usable error. */
export async function decodeApiError(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => undefined);
  const envelope = isRecord(body) ? body.error : undefined;
  if (isRecord(envelope) && typeof envelope.code === 'string' && typeof envelope.message === 'string') {
    return new ApiError(response.status, envelope.code, envelope.message, isRecord(envelope.details) ? envelope.details : undefined);
  }
  return new ApiError(response.status, `HTTP_${response.status}`, `the server answered HTTP ${response.status}`);
}

/**
 * One sentence for the person who clicked: what went wrong and what to do about it. Shown next to
 * the button that caused it.
 */
export function explainApiError(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  switch (error.code) {
    case 'CW_ROLLBACK_NOT_PENDING':
      return decidedSentence(error.details, 'rollback') ?? 'This rollback was already decided; the list shows what was decided.';
    case 'CW_ROLLBACK_EXPIRED':
      return 'Too late: the approval window has passed, so this rollback can no longer be approved.';
    case 'CW_ROLLBACK_NO_WEBHOOK':
      return 'Nowhere to send it: no rollback.webhook is configured. Roll back by hand in your CD system, then deny this proposal saying so.';
    case 'CW_KILL_SWITCH_ENGAGED':
      return 'The kill switch is on: no rollback can be approved until it is released.';
    case 'CW_FREEZE_NOT_ACTIVE':
      return decidedSentence(error.details, 'freeze') ?? 'This freeze was already lifted.';
    case 'CW_CONFLICT':
      // An incident someone (or changewatch) already resolved names who and when; other conflicts keep the server's sentence.
      return decidedSentence(error.details, 'incident') ?? serverSentence(error.message);
    case 'CW_AUTH_UNAUTHORIZED':
      return 'The server did not accept your API token. Sign out and sign in with a valid one.';
    case 'CW_AUTH_FORBIDDEN':
      return 'Your API token may not do this: it needs the operator role.';
    case NETWORK_ERROR:
      return `Could not reach the server (${error.message}). Check the connection and try again.`;
    default:
      return serverSentence(error.message);
  }
}

/**
 * The server's own message as a sentence: they are written for people (e.g. "incident inc-1 is
 * already resolved"); one that starts with a field name ("endsAt must be…", "matchers.service: …")
 * keeps it as it is spelled.
 */
function serverSentence(message: string): string {
  return (/^[a-z]+\b(?![.\-_])/.test(message) ? message.charAt(0).toUpperCase() + message.slice(1) : message) + (/[.!?]$/.test(message) ? '' : '.');
}

/**
 * "Already decided: fatima approved this rollback at 2026-12-07 23:10:05 UTC.", from a 409's
 * `details: { decidedBy, decidedAt, decision }`; undefined when the server sent none (an older one).
 */
function decidedSentence(details: Record<string, unknown> | undefined, what: 'rollback' | 'freeze' | 'incident'): string | undefined {
  const { decidedBy, decidedAt, decision } = details ?? {};
  if (typeof decidedBy !== 'string' || typeof decidedAt !== 'string' || typeof decision !== 'string') return undefined;
  const when = Number.isNaN(Date.parse(decidedAt)) ? decidedAt : formatAbsoluteTime(Date.parse(decidedAt));
  const verb = decision === 'expired' || decision === 'suppressed' ? `marked this ${what} ${decision}` : `${decision} this ${what}`;
  const who = decidedBy === 'policy' ? 'the policy' : decidedBy === 'changewatch' ? 'changewatch (all its alerts resolved)' : decidedBy;
  return `Already decided: ${who} ${verb} at ${when}.`;
}

/** How the client reaches the server and whom it acts as. */
export interface ApiClientOptions {
  /** The session's current API token, read for every request; `undefined` sends none. */
  token?: () => string | undefined;
  /** Called when the server rejects the token (HTTP 401), e.g. to tell the person to sign in again. */
  onUnauthorized?: (error: ApiError) => void;
  fetch?: typeof fetch;
  /** Prefix for every path; same origin by default. */
  baseUrl?: string;
}

/** What {@link ApiClient.listIncidents} asks for by default: the incidents still open. */
export const OPEN_INCIDENT_STATUSES: readonly IncidentStatus[] = ['firing', 'acknowledged'];

/** Filters of {@link ApiClient.listAudit}; empty ones are not sent. */
export interface AuditQuery {
  /** Exact token name or component (`policy`, `delivery`…). */
  actor?: string;
  /** Exact action, or a prefix ending in `.` (e.g. `rollback.`). */
  action?: string;
  /** Exact target, e.g. `rollback:rb-1`. */
  target?: string;
  /** Only entries older than this id: the next page. */
  beforeId?: number;
  limit?: number;
}

/** Typed calls to the changewatch HTTP API. */
export class ApiClient {
  readonly #token: () => string | undefined;
  readonly #onUnauthorized: ((error: ApiError) => void) | undefined;
  readonly #fetch: typeof fetch;
  readonly #baseUrl: string;

  constructor(options: ApiClientOptions = {}) {
    this.#token = options.token ?? (() => undefined);
    this.#onUnauthorized = options.onUnauthorized;
    // Bound so a browser's fetch is not called with the client as `this`.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#baseUrl = options.baseUrl ?? '';
  }

  /**
   * `GET /api/v1/whoami`: the token's name and role (anonymous without one). A bad token is an
   * {@link ApiError} with status 401, which also reaches `onUnauthorized`.
   */
  whoami(signal?: AbortSignal): Promise<WhoAmI> {
    return this.#request('GET', '/api/v1/whoami', undefined, (body) => (isWhoAmI(body) ? body : undefined), signal);
  }

  /** `GET /api/v1/audit`: audit entries newest first, filtered as {@link AuditQuery} says (needs a viewer token). */
  listAudit(query: AuditQuery = {}, signal?: AbortSignal): Promise<AuditEntryView[]> {
    const params = new URLSearchParams();
    for (const name of ['actor', 'action', 'target'] as const) {
      const value = query[name]?.trim();
      if (value) params.set(name, value);
    }
    if (query.beforeId !== undefined) params.set('beforeId', String(query.beforeId));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const encoded = params.toString();
    const suffix = encoded ? `?${encoded}` : '';
    return this.#request('GET', `/api/v1/audit${suffix}`, undefined, (body) => listOf(body, 'entries', isAuditEntry), signal);
  }

  /** `GET /api/v1/incidents?status=…`: incidents in the given states, most recently updated first. */
  async listIncidents(statuses: readonly IncidentStatus[] = OPEN_INCIDENT_STATUSES, signal?: AbortSignal): Promise<Incident[]> {
    const query = new URLSearchParams({ status: statuses.join(',') });
    return this.#request('GET', `/api/v1/incidents?${query}`, undefined, (body) => listOf(body, 'incidents', isIncident), signal);
  }

  /** `GET /api/v1/alerts/:id/points`: the recent history of the alert's series and the changes to mark on it (404 `CW_NOT_FOUND` when there is none). */
  alertSeries(alertId: string, signal?: AbortSignal): Promise<SeriesPointsResponse> {
    return this.#request('GET', `/api/v1/alerts/${encodeURIComponent(alertId)}/points`, undefined, (body) => (isSeriesPoints(body) ? body : undefined), signal);
  }

  /** `GET /api/v1/alerts/:id`: one alert the server still holds, open or resolved (404 `CW_NOT_FOUND` otherwise). */
  async getAlert(id: string, signal?: AbortSignal): Promise<Alert> {
    return this.#request('GET', `/api/v1/alerts/${encodeURIComponent(id)}`, undefined, (body) => field(body, 'alert', isAlert), signal);
  }

  /** `GET /api/v1/incidents/:id`: one incident in any state (404 `CW_NOT_FOUND` when there is none). */
  async getIncident(id: string, signal?: AbortSignal): Promise<Incident> {
    return this.#request('GET', `/api/v1/incidents/${encodeURIComponent(id)}`, undefined, (body) => field(body, 'incident', isIncident), signal);
  }

  /** `GET /api/v1/changes/:id`: one change the server still holds (404 `CW_NOT_FOUND` otherwise). */
  async getChange(id: string, signal?: AbortSignal): Promise<ChangeEvent> {
    return this.#request('GET', `/api/v1/changes/${encodeURIComponent(id)}`, undefined, (body) => field(body, 'change', isChange), signal);
  }

  /** `POST /api/v1/incidents/:id/acknowledge`. */
  acknowledgeIncident(id: string, reason?: string): Promise<Incident> {
    return this.#request('POST', `/api/v1/incidents/${encodeURIComponent(id)}/acknowledge`, optional('reason', reason), (body) =>
      field(body, 'incident', isIncident),
    );
  }

  /** `POST /api/v1/incidents/:id/resolve`. */
  resolveIncident(id: string, reason?: string): Promise<Incident> {
    return this.#request('POST', `/api/v1/incidents/${encodeURIComponent(id)}/resolve`, optional('reason', reason), (body) =>
      field(body, 'incident', isIncident),
    );
  }

  /** `GET /api/v1/silences`: the silences in force and those starting later. */
  listSilences(signal?: AbortSignal): Promise<Silence[]> {
    return this.#request('GET', '/api/v1/silences', undefined, (body) => listOf(body, 'silences', isSilence), signal);
  }

  /** `POST /api/v1/silences`: at least one matcher, an end in the future and a comment are required. */
  async createSilence(input: SilenceInput): Promise<Silence> {
    const matchers = Object.fromEntries(Object.entries(input.matchers).filter(([, values]) => Array.isArray(values) && values.length > 0));
    if (Object.keys(matchers).length === 0) throw new ApiError(0, INVALID_INPUT, 'a silence needs at least one matcher, so it never mutes everything by accident');
    const body = {
      matchers,
      ...(input.startsAt === undefined ? {} : { startsAt: input.startsAt }),
      endsAt: input.endsAt,
      comment: required('create a silence', input.comment, 'comment'),
    };
    return this.#request('POST', '/api/v1/silences', body, (answer) => field(answer, 'silence', isSilence));
  }

  /** `DELETE /api/v1/silences/:id`: ends it now (404 `CW_NOT_FOUND` when it already ended). */
  async expireSilence(id: string, reason?: string): Promise<void> {
    const body = optional('reason', reason);
    await this.#request('DELETE', `/api/v1/silences/${encodeURIComponent(id)}`, Object.keys(body).length > 0 ? body : undefined, () => true);
  }

  /** `POST /api/v1/rollbacks/:id/approve` with an optional comment. */
  approveRollback(id: string, comment?: string): Promise<RollbackView> {
    return this.#request('POST', `/api/v1/rollbacks/${encodeURIComponent(id)}/approve`, optional('comment', comment), (body) =>
      field(body, 'rollback', isRollback),
    );
  }

  /** `POST /api/v1/rollbacks/:id/deny`; a reason is required. */
  async denyRollback(id: string, reason: string): Promise<RollbackView> {
    return this.#request('POST', `/api/v1/rollbacks/${encodeURIComponent(id)}/deny`, { reason: required('deny a rollback', reason) }, (body) =>
      field(body, 'rollback', isRollback),
    );
  }

  /** `POST /api/v1/killswitch`: engage (`true`) or release (`false`) it; a reason is required. */
  async setKillSwitch(engaged: boolean, reason: string): Promise<KillSwitchState> {
    return this.#request('POST', '/api/v1/killswitch', { engaged, reason: required('flip the kill switch', reason) }, (body) =>
      isKillSwitch(body) ? body : undefined,
    );
  }

  /** `POST /api/v1/freezes/:id/lift`; a reason is required. */
  async liftFreeze(id: string, reason: string): Promise<Freeze> {
    return this.#request('POST', `/api/v1/freezes/${encodeURIComponent(id)}/lift`, { reason: required('lift a freeze', reason) }, (body) =>
      field(body, 'freeze', isFreeze),
    );
  }

  async #request<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: Record<string, unknown> | undefined,
    read: (body: unknown) => T | undefined,
    signal?: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.#token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, NETWORK_ERROR, error instanceof Error ? error.message : String(error));
    }
    if (!response.ok) {
      const error = await decodeApiError(response);
      if (response.status === 401) this.#onUnauthorized?.(error);
      throw error;
    }
    // 204 No Content (an expired silence) has no body to read.
    const parsed = read(response.status === 204 ? undefined : await response.json().catch(() => undefined));
    if (parsed === undefined) throw new ApiError(response.status, BAD_RESPONSE, 'the server sent an unexpected response');
    return parsed;
  }
}

/** `{ [name]: value }` when the trimmed value is non-empty, else `{}`. */
function optional(name: string, value: string | undefined): Record<string, unknown> {
  const trimmed = value?.trim();
  return trimmed ? { [name]: trimmed } : {};
}

/** The trimmed value; rejects before sending when it is empty, as the server would. */
function required(what: string, value: string, noun = 'reason'): string {
  const trimmed = value.trim();
  if (!trimmed) throw new ApiError(0, INVALID_INPUT, `a ${noun} is required to ${what}`);
  return trimmed;
}

function field<T>(body: unknown, name: string, is: (value: unknown) => value is T): T | undefined {
  const value = isRecord(body) ? body[name] : undefined;
  return is(value) ? value : undefined;
}

function listOf<T>(body: unknown, name: string, is: (value: unknown) => value is T): T[] | undefined {
  const value = isRecord(body) ? body[name] : undefined;
  return Array.isArray(value) && value.every(is) ? (value as T[]) : undefined;
}

// Shape checks of what the dashboard relies on, so an older or different server fails with a clear
// message instead of a broken render.

function isIncident(value: unknown): value is Incident {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.status === 'string' &&
    typeof value.severity === 'string' &&
    typeof value.title === 'string' &&
    typeof value.updatedAt === 'string' &&
    Array.isArray(value.alertIds)
  );
}

function isSeriesPoints(value: unknown): value is SeriesPointsResponse {
  return (
    isRecord(value) &&
    isRecord(value.series) &&
    typeof value.from === 'number' &&
    typeof value.to === 'number' &&
    Array.isArray(value.points) &&
    value.points.every((point) => isRecord(point) && typeof point.time === 'number' && typeof point.value === 'number') &&
    Array.isArray(value.versions) &&
    Array.isArray(value.services) &&
    Array.isArray(value.changes)
  );
}

function isAlert(value: unknown): value is Alert {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.status === 'string' &&
    typeof value.severity === 'string' &&
    typeof value.service === 'string' &&
    typeof value.startedAt === 'string' &&
    Array.isArray(value.suspects)
  );
}

function isChange(value: unknown): value is ChangeEvent {
  return isRecord(value) && typeof value.id === 'string' && typeof value.service === 'string' && typeof value.timestamp === 'number' && isRecord(value.author);
}

function isRollback(value: unknown): value is RollbackView {
  return isRecord(value) && typeof value.id === 'string' && typeof value.status === 'string' && typeof value.updatedAt === 'string';
}

function isKillSwitch(value: unknown): value is KillSwitchState {
  return isRecord(value) && typeof value.engaged === 'boolean';
}

function isSilence(value: unknown): value is Silence {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    isRecord(value.matchers) &&
    typeof value.startsAt === 'string' &&
    typeof value.endsAt === 'string' &&
    typeof value.createdBy === 'string' &&
    typeof value.comment === 'string'
  );
}

function isFreeze(value: unknown): value is Freeze {
  return isRecord(value) && typeof value.id === 'string' && typeof value.active === 'boolean';
}

function isWhoAmI(value: unknown): value is WhoAmI {
  return isRecord(value) && typeof value.name === 'string' && typeof value.anonymousReads === 'boolean' && (value.role === undefined || typeof value.role === 'string');
}

function isAuditEntry(value: unknown): value is AuditEntryView {
  return isRecord(value) && typeof value.id === 'number' && typeof value.at === 'string' && typeof value.actor === 'string' && typeof value.action === 'string';
}
