/**
 * A stand-in for the changewatch server in dashboard tests: serves the built dashboard from web/dist,
 * speaks the socket.io contract (snapshot and automation snapshot on connect, then whatever the test
 * emits), answers `GET /api/v1/stats/changes` and `GET /api/v1/alerts/:id/points` with whatever the test
 * sets, serves the deep links (`/alerts/:id`…) and the by-id reads behind them, and answers whoami, the
 * audit log and the incident, silence and automation API like the real one: Bearer tokens with roles,
 * the `{ error: { code, message, details } }` envelope, 401/403, the 400s of bad silences (validated
 * with the server's own matcher schema), 404s and the 409s of the real routes (a rollback's naming who
 * decided it and when). Every API request is recorded.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import { Server } from 'socket.io';
import { z } from 'zod';
import { muteMatchersSchema } from '../../../server/alerts/stages/config.ts';
import type { Silence } from '../../../contract/silence.ts';
import { newSilence } from '../../../server/alerts/stages/mute.ts';
import type { Alert, ChangeStatsResponse } from '../../../contract/alert.ts';
import type { ChangeEvent } from '../../../contract/events.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../contract/socket.ts';
import type { AutomationSnapshot, RollbackView } from '../../../contract/automation.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { SeriesPointsResponse } from '../../../contract/series.ts';
import type { AuditEntryView, WhoAmI } from '../../../contract/session.ts';
import type { DashboardSnapshot } from '../../../web/src/lib/live-updates.ts';

/** The built dashboard the fake server serves. */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Roles a fake token can have, lowest first (as in server/http/auth.ts). */
export type FakeRole = 'viewer' | 'operator' | 'admin';

/** One API request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/incidents?status=firing,acknowledged`. */
  url: string;
  /** The Bearer token presented, if any. */
  token: string | undefined;
  body: unknown;
  /** The HTTP status the fake answered. */
  status: number;
}

/** A running fake server. */
export interface FakeDashboardServer {
  /** Base URL of the dashboard, e.g. http://127.0.0.1:40123/. */
  url: string;
  /** The socket.io server, for emitting live events to connected dashboards. */
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  /** What `GET /api/v1/stats/changes` answers; undefined makes it fail with HTTP 503. */
  changeStats: ChangeStatsResponse | undefined;
  /**
   * The fake's automation state, sent on connect when set. Tests may change it without telling the
   * dashboards (as when another operator decides first), or through {@link publishAutomation}.
   */
  automation: AutomationSnapshot | undefined;
  /**
   * Alerts and changes the server still holds but no longer sends in the snapshot (resolved long ago,
   * older changes): `GET /api/v1/alerts/:id` and `GET /api/v1/changes/:id` answer these and the snapshot's.
   */
  archivedAlerts: Map<string, Alert>;
  archivedChanges: Map<string, ChangeEvent>;
  /** Every incident the fake knows, by id; `GET /api/v1/incidents` answers the ones matching `status`. */
  incidents: Map<string, Incident>;
  /**
   * The silences, by id, as the real SilenceBook keeps them: `GET /api/v1/silences` answers those not
   * yet ended, POST adds one, DELETE removes one. Tests may add or remove some behind the dashboards' back.
   */
  silences: Map<string, Silence>;
  /** What `GET /api/v1/alerts/:id/points` answers, by alert id; an alert not here is answered 404 like one without history. */
  series: Map<string, SeriesPointsResponse>;
  /** Known tokens and their names and roles; anything else is answered 401. */
  tokens: Map<string, { name: string; role: FakeRole }>;
  /** Whether reads (socket and GET routes) need a viewer token (`auth.anonymousRead: false`). */
  requireReadToken: boolean;
  /**
   * The audit log, in any order: `GET /api/v1/audit` answers it newest first (by id) to viewer tokens
   * and above, filtered by `actor`, `action` (exact, or a prefix ending in `.`), `target`, `beforeId`
   * and `limit` as server/store/repositories/audit.ts filters.
   */
  audit: AuditEntryView[];
  /** Every API request, in order. */
  requests: RecordedRequest[];
  /** The `auth.token` each socket connection presented (undefined when none), in connection order. */
  handshakeTokens: Array<string | undefined>;
  /** Sends the current automation state to every dashboard, as the real server does after each change. */
  publishAutomation(): void;
  /** Stores an incident and emits the `incident` event, as the real server does when one opens or changes. */
  publishIncident(incident: Incident): void;
  /** Number of dashboards currently connected. */
  connectedCount(): number;
  /** Closes every connection and stops listening, like a crashing or restarting server. */
  stop(): Promise<void>;
}

const ROLE_RANK: Record<FakeRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** An error the fake answers with, shaped like the real `ChangewatchError` envelope. */
class FakeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** The 409 of deciding a rollback someone already decided, with the details the real one sends (server/actions/rollback-approval.ts). */
function alreadyDecided(current: RollbackView): FakeApiError {
  const decision = current.status === 'denied' ? 'denied' : current.status === 'expired' ? 'expired' : 'approved';
  const decidedBy = current.decidedBy ?? 'policy';
  return new FakeApiError(409, 'CW_ROLLBACK_NOT_PENDING', `rollback ${current.id} is no longer pending: ${decidedBy} ${decision} it at ${current.updatedAt}`, {
    decidedBy,
    decidedAt: current.updatedAt,
    decision,
    status: current.status,
  });
}

/** An answer other than 200 with a JSON body: 201 with one, or 204 without. */
class FakeAnswer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

/** The body of `POST /api/v1/silences`, as server/http/incidents-routes.ts checks it. */
const silenceBody = z.strictObject({
  matchers: muteMatchersSchema,
  startsAt: z.iso.datetime({ offset: true }).optional(),
  endsAt: z.iso.datetime({ offset: true }),
  comment: z.string().trim().min(1, 'say why (it is shown to whoever wonders why nothing paged)').max(1_000),
});

/** Starts a fake server on a free local port; `snapshot` is called for each connecting dashboard. */
export async function startFakeDashboardServer(snapshot: () => DashboardSnapshot): Promise<FakeDashboardServer> {
  if (!existsSync(`${DASHBOARD_DIST}/index.html`)) {
    throw new Error(`no built dashboard in ${DASHBOARD_DIST}: run \`npx vite build\` first`);
  }
  const app = express();
  const http = createServer(app);
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, { serveClient: false });

  const server: FakeDashboardServer = {
    url: '',
    io,
    changeStats: undefined,
    automation: undefined,
    archivedAlerts: new Map(),
    archivedChanges: new Map(),
    incidents: new Map(),
    silences: new Map(),
    series: new Map(),
    tokens: new Map(),
    requireReadToken: false,
    audit: [],
    requests: [],
    handshakeTokens: [],
    publishAutomation: () => {
      if (server.automation) io.emit('automation', structuredClone(server.automation));
    },
    publishIncident: (incident) => {
      server.incidents.set(incident.id, incident);
      io.emit('incident', incident);
    },
    connectedCount: () => io.of('/').sockets.size,
    stop: () =>
      new Promise((resolve) => {
        // io.close() closes the HTTP server too; dropping keep-alive connections lets that finish promptly.
        io.close(() => resolve());
        http.closeAllConnections();
      }),
  };

  /** The actor for a request needing `minimum`, or throws 401/403 like server/http/auth.ts. */
  const authorize = (token: string | undefined, minimum: FakeRole): { name: string; role: FakeRole } => {
    if (!token) throw new FakeApiError(401, 'CW_AUTH_UNAUTHORIZED', 'an API token is required (Authorization: Bearer <token>)');
    const actor = server.tokens.get(token);
    if (!actor) throw new FakeApiError(401, 'CW_AUTH_UNAUTHORIZED', 'the API token is not valid');
    if (ROLE_RANK[actor.role] < ROLE_RANK[minimum]) {
      throw new FakeApiError(403, 'CW_AUTH_FORBIDDEN', `this action needs the ${minimum} role; token "${actor.name}" has ${actor.role}`);
    }
    return actor;
  };
  const bearer = (request: Request): string | undefined => /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  const reason = (request: Request, name: string): string | undefined => {
    const value = (request.body as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  const automation = (): AutomationSnapshot => {
    if (!server.automation) throw new FakeApiError(404, 'CW_NOT_FOUND', 'automation is not enabled in this server');
    return server.automation;
  };
  const rollback = (id: string): RollbackView => {
    const found = automation().rollbacks.find((candidate) => candidate.id === id);
    if (!found) throw new FakeApiError(404, 'CW_NOT_FOUND', `no rollback ${id}`);
    return found;
  };
  const incident = (id: string): Incident => {
    const found = server.incidents.get(id);
    if (!found) throw new FakeApiError(404, 'CW_NOT_FOUND', `no incident ${id}`);
    if (found.status === 'resolved') throw new FakeApiError(409, 'CW_CONFLICT', `incident ${id} is already resolved`);
    return found;
  };

  /** Wraps a handler: records the request, answers thrown FakeApiErrors with the error envelope. */
  const route =
    (minimum: FakeRole | 'read', handle: (request: Request, actor: string) => unknown) =>
    (request: Request, response: Response): void => {
      const token = bearer(request);
      let status = 200;
      let body: unknown;
      try {
        const actor =
          minimum === 'read' ? (server.requireReadToken || token ? authorize(token, 'viewer').name : 'anonymous') : authorize(token, minimum).name;
        body = handle(request, actor);
        if (body instanceof FakeAnswer) {
          status = body.status;
          body = body.body;
        }
      } catch (error) {
        if (!(error instanceof FakeApiError)) throw error;
        status = error.status;
        body = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
      }
      server.requests.push({ method: request.method, url: request.originalUrl, token, body: request.body, status });
      if (status === 204) response.status(204).end();
      else response.status(status).json(body);
    };

  app.use('/api/v1', express.json());

  app.get(
    '/api/v1/whoami',
    route('read', (request, actor) => {
      const known = server.tokens.get(bearer(request) ?? '');
      const answer: WhoAmI = { name: actor, ...(known ? { role: known.role } : {}), anonymousReads: !server.requireReadToken };
      return answer;
    }),
  );
  app.get(
    '/api/v1/audit',
    route('viewer', (request) => {
      const text = (name: string): string | undefined => (typeof request.query[name] === 'string' && request.query[name] !== '' ? (request.query[name] as string) : undefined);
      const [actor, action, target] = [text('actor'), text('action'), text('target')];
      const beforeId = text('beforeId') === undefined ? undefined : Number(text('beforeId'));
      const limit = Math.min(1000, text('limit') === undefined ? 100 : Number(text('limit')));
      if ((beforeId !== undefined && !Number.isInteger(beforeId)) || !Number.isInteger(limit) || limit < 1) {
        throw new FakeApiError(400, 'CW_BAD_REQUEST', '"beforeId" and "limit" must be whole numbers');
      }
      const entries = [...server.audit]
        .sort((a, b) => b.id - a.id)
        .filter((entry) => actor === undefined || entry.actor === actor)
        .filter((entry) => action === undefined || (action.endsWith('.') ? entry.action.startsWith(action) : entry.action === action))
        .filter((entry) => target === undefined || entry.target === target)
        .filter((entry) => beforeId === undefined || entry.id < beforeId)
        .slice(0, limit);
      return { entries };
    }),
  );

  app.get('/api/v1/stats/changes', (_request, response) => {
    if (server.changeStats) response.json(server.changeStats);
    else response.status(503).json({ error: 'change statistics are not available' });
  });

  app.get(
    '/api/v1/incidents',
    route('read', (request) => {
      const statuses = typeof request.query.status === 'string' ? request.query.status.split(',') : undefined;
      const incidents = [...server.incidents.values()]
        .filter((candidate) => statuses === undefined || statuses.includes(candidate.status))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
      return { incidents };
    }),
  );
  app.get(
    '/api/v1/incidents/:id',
    route('read', (request) => {
      const found = server.incidents.get(request.params.id as string);
      if (!found) throw new FakeApiError(404, 'CW_NOT_FOUND', `no incident ${request.params.id}`);
      return { incident: found, alerts: [] };
    }),
  );
  app.get(
    '/api/v1/alerts/:id',
    route('read', (request) => {
      const id = request.params.id as string;
      const found = snapshot().alerts.find((candidate) => candidate.id === id) ?? server.archivedAlerts.get(id);
      if (!found) throw new FakeApiError(404, 'CW_NOT_FOUND', `no alert ${id}`);
      return { alert: found };
    }),
  );
  app.get(
    '/api/v1/changes/:id',
    route('read', (request) => {
      const id = request.params.id as string;
      const found = snapshot().changes.find((candidate) => candidate.id === id) ?? server.archivedChanges.get(id);
      if (!found) throw new FakeApiError(404, 'CW_NOT_FOUND', `no change ${id}`);
      return { change: found };
    }),
  );
  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post(
      `/api/v1/incidents/:id/${action}`,
      route('operator', (request, actor) => {
        const current = incident(request.params.id as string);
        const at = new Date().toISOString();
        const updated: Incident =
          action === 'acknowledge'
            ? { ...current, status: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: at, updatedAt: at }
            : { ...current, status: 'resolved', resolvedAt: at, updatedAt: at };
        server.publishIncident(updated);
        return { incident: updated };
      }),
    );
  }

  app.get(
    '/api/v1/alerts/:id/points',
    route('read', (request) => {
      const found = server.series.get(request.params.id as string);
      if (!found) throw new FakeApiError(404, 'CW_NOT_FOUND', `no history for the series of alert ${request.params.id as string}`);
      return structuredClone(found);
    }),
  );

  app.get(
    '/api/v1/silences',
    route('read', () => {
      const now = Date.now();
      const silences = [...server.silences.values()].filter((silence) => Date.parse(silence.endsAt) > now).sort((a, b) => a.startsAt.localeCompare(b.startsAt));
      return { silences };
    }),
  );
  app.post(
    '/api/v1/silences',
    route('operator', (request, actor) => {
      const parsed = silenceBody.safeParse(request.body);
      if (!parsed.success) {
        throw new FakeApiError(400, 'CW_BAD_REQUEST', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
      }
      const input = parsed.data;
      if (Date.parse(input.endsAt) <= Math.max(Date.now(), input.startsAt ? Date.parse(input.startsAt) : 0)) {
        throw new FakeApiError(400, 'CW_BAD_REQUEST', 'endsAt must be in the future and after startsAt');
      }
      const silence = newSilence(input, actor, Date.now());
      server.silences.set(silence.id, silence);
      return new FakeAnswer(201, { silence });
    }),
  );
  app.delete(
    '/api/v1/silences/:id',
    route('operator', (request) => {
      const id = request.params.id as string;
      const silence = server.silences.get(id);
      if (!silence || Date.parse(silence.endsAt) <= Date.now()) throw new FakeApiError(404, 'CW_NOT_FOUND', `no active silence ${id}`);
      server.silences.delete(id);
      return new FakeAnswer(204);
    }),
  );

  app.post(
    '/api/v1/rollbacks/:id/approve',
    route('operator', (request, actor) => {
      const current = rollback(request.params.id as string);
      if (current.status === 'pending' && current.expiresAt && Date.parse(current.expiresAt) <= Date.now()) {
        throw new FakeApiError(409, 'CW_ROLLBACK_EXPIRED', `rollback ${current.id} expired at ${current.expiresAt}`);
      }
      if (current.status === 'expired') throw new FakeApiError(409, 'CW_ROLLBACK_EXPIRED', `rollback ${current.id} expired`);
      if (current.status === 'pending' && !automation().canExecute) {
        throw new FakeApiError(409, 'CW_ROLLBACK_NO_WEBHOOK', `rollback ${current.id} cannot be sent: rollback.webhook is not configured`);
      }
      if (automation().killSwitch.engaged) throw new FakeApiError(409, 'CW_KILL_SWITCH_ENGAGED', 'the kill switch is on');
      if (current.status !== 'pending') {
        // Approving again what you approved is answered with that approval, as the real server does.
        if (current.decidedBy === actor && current.status !== 'denied') return { rollback: current };
        throw alreadyDecided(current);
      }
      const comment = reason(request, 'comment');
      Object.assign(current, {
        status: 'approved',
        decidedBy: actor,
        reason: comment ? `approved by ${actor}: ${comment}` : `approved by ${actor}`,
        updatedAt: new Date().toISOString(),
      } satisfies Partial<RollbackView>);
      server.publishAutomation();
      return { rollback: current };
    }),
  );
  app.post(
    '/api/v1/rollbacks/:id/deny',
    route('operator', (request, actor) => {
      const why = reason(request, 'reason');
      if (!why) throw new FakeApiError(400, 'CW_BAD_REQUEST', 'a "reason" is required to deny a rollback');
      const current = rollback(request.params.id as string);
      if (current.status !== 'pending') {
        if (current.decidedBy === actor && current.status === 'denied') return { rollback: current };
        throw alreadyDecided(current);
      }
      Object.assign(current, {
        status: 'denied',
        decidedBy: actor,
        reason: `denied by ${actor}: ${why}`,
        updatedAt: new Date().toISOString(),
      } satisfies Partial<RollbackView>);
      server.publishAutomation();
      return { rollback: current };
    }),
  );
  app.post(
    '/api/v1/killswitch',
    route('operator', (request, actor) => {
      const engaged = (request.body as Record<string, unknown> | undefined)?.engaged;
      if (typeof engaged !== 'boolean') throw new FakeApiError(400, 'CW_BAD_REQUEST', 'body must be { "engaged": true|false, "reason": "..." }');
      const why = reason(request, 'reason');
      if (!why) throw new FakeApiError(400, 'CW_BAD_REQUEST', 'a "reason" is required to flip the kill switch');
      const snapshot = automation();
      const at = new Date().toISOString();
      snapshot.killSwitch = { engaged, by: actor, reason: why, since: at };
      if (engaged) {
        // Approved rollbacks not yet sent are cancelled, not held (docs/actions.md).
        for (const candidate of snapshot.rollbacks.filter((item) => item.status === 'approved')) {
          Object.assign(candidate, { status: 'suppressed', reason: `cancelled by the kill switch (${actor}: ${why})`, updatedAt: at });
        }
      }
      server.publishAutomation();
      return snapshot.killSwitch;
    }),
  );
  app.post(
    '/api/v1/freezes/:id/lift',
    route('operator', (request, actor) => {
      const why = reason(request, 'reason');
      if (!why) throw new FakeApiError(400, 'CW_BAD_REQUEST', 'a "reason" is required to lift a freeze');
      const snapshot = automation();
      const current = snapshot.freezes.find((candidate) => candidate.id === request.params.id);
      if (!current) throw new FakeApiError(409, 'CW_FREEZE_NOT_ACTIVE', `freeze ${request.params.id} is not active`);
      const lifted = { ...current, active: false, liftedBy: actor, liftedAt: new Date().toISOString(), liftReason: why };
      snapshot.freezes = snapshot.freezes.filter((candidate) => candidate !== current);
      server.publishAutomation();
      return { freeze: lifted };
    }),
  );

  app.use(express.static(DASHBOARD_DIST));
  // The dashboard's deep links get its index.html, as server/http/app.ts serves DASHBOARD_ROUTES.
  app.get(['/alerts/:id', '/incidents/:id', '/changes/:id'], (_request, response) => response.sendFile(`${DASHBOARD_DIST}/index.html`));

  io.use((socket, next) => {
    const token = typeof socket.handshake.auth.token === 'string' ? socket.handshake.auth.token : undefined;
    server.handshakeTokens.push(token);
    try {
      if (server.requireReadToken || token) authorize(token, 'viewer');
      next();
    } catch (error) {
      const fake = error as FakeApiError;
      next(Object.assign(new Error(fake.message), { data: { code: fake.code, message: fake.message } }));
    }
  });
  io.on('connection', (socket) => {
    socket.emit('snapshot', snapshot());
    if (server.automation) socket.emit('automation', structuredClone(server.automation));
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  return server;
}
