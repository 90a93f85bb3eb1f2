/**
 * The HTTP edge: health, the read API, event ingestion for CI/CD systems without Kafka access (an
 * `ingest` token or above), and the built dashboard. Handlers only decode requests and encode
 * responses; the core does the work.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import type { Changewatch } from '../core.ts';
import { jsonOf, type EventKind } from '../wire/decode.ts';
import { validateIngestRecord } from '../wire/cdevents.ts';
import { isBinaryMode, readBinary, type KafkaHeaders } from '../wire/cloudevents.ts';
import { checkFutureSkew } from '../wire/skew.ts';
import { ALERT_STATUSES } from '../../contract/alert.ts';
import { computeChangeStats } from '../../detectors/attribution/index.ts';
import { createError, describeErrorCodes } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ServiceMetrics } from '../metrics.ts';
import { bearerToken, readAccess, requireRole, type Authenticator } from './auth.ts';
import type { WhoAmI } from '../../contract/session.ts';
import { renderErrors } from './errors.ts';
import { createOtlpRouter, type OtlpPublisher } from './otlp-routes.ts';
import { limitParam, optionalEnum, optionalString, optionalTime } from './query.ts';
import { createSeriesRouter } from './series-routes.ts';

/** Most records one POST /api/v1/events may carry. */
const MAX_EVENTS_PER_REQUEST = 5_000;

/**
 * The dashboard's own client routes, answered with its index.html: the page itself and the deep
 * links to one alert, incident or change. Every other path that is not an API route or one of the
 * built dashboard's files is a 404 with the JSON error (so a typo'd scrape or a missing asset is
 * not a 200 HTML page).
 */
export const DASHBOARD_ROUTES = ['/', '/alerts/:id', '/incidents/:id', '/changes/:id'] as const;

/** What the HTTP edge needs from the Kafka edge. */
export interface EventPublisher {
  readonly ready: boolean;
  publish(kind: EventKind, messages: Array<{ key: string; value: string }>): Promise<void>;
  /** Next offset to process per `topic:partition`. */
  consumedOffsets(): Record<string, string>;
  /** The telemetry partitions the consumer group assigned to this instance (`topic:partition`). */
  assignedPartitions(): string[];
}

/** Dependencies of the HTTP app. */
export interface HttpAppDeps {
  core: Changewatch;
  publisher: EventPublisher;
  log: Logger;
  /** Checks the token of POST /api/v1/events, which needs the `ingest` role or above. */
  authenticator: Authenticator;
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  maxFutureSkewMs: number;
  /** Directory of the built dashboard; served at / when it exists. */
  dashboardDir: string;
  /** More API routers (incidents, actions), mounted at /api/v1 after the built-in routes; the app renders their errors. */
  routers?: readonly Router[];
  /** The service's metrics, rendered at `GET /metrics` (a read: anonymous while `auth.anonymousRead` is true); no route without. */
  metrics?: ServiceMetrics;
  /** Where POST /v1/metrics (OTLP/HTTP, an `ingest` token or above) produces; no route without; 404 while `otlp.enabled` is false (docs/otel.md). */
  otlpPublisher?: OtlpPublisher;
}

/** Builds the express application. */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const { core, publisher } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = publisher.ready;
    res.status(ready ? 200 : 503).json({ ready, kafka: ready ? 'connected' : 'not connected' });
  });

  // Reads follow `auth.anonymousRead` like every other GET route and the socket.
  const read = readAccess(deps.authenticator);
  const { metrics } = deps;
  if (metrics) {
    app.get('/metrics', read, async (_req, res) => {
      const { contentType, body } = await metrics.render();
      res.setHeader('content-type', contentType);
      res.setHeader('cache-control', 'no-store');
      res.send(body);
    });
  }

  if (deps.otlpPublisher) {
    app.use(createOtlpRouter({ core, publisher: deps.otlpPublisher, authenticator: deps.authenticator, maxBodyBytes: deps.maxBodyBytes, maxFutureSkewMs: deps.maxFutureSkewMs, log: deps.log }));
  }

  const api = express.Router();
  api.get('/alerts', read, (req, res) => {
    const status = optionalEnum(req, 'status', ALERT_STATUSES);
    const service = optionalString(req, 'service');
    res.json({ alerts: core.alerts.list({ ...(status ? { status } : {}), ...(service ? { service } : {}), limit: limitParam(req, { fallback: 500, max: 2_000 }) }) });
  });
  api.get('/alerts/:id', read, (req: Request<{ id: string }>, res) => {
    const alert = core.alerts.get(req.params.id);
    if (!alert) throw createError('CW_NOT_FOUND', `no alert ${req.params.id}`);
    res.json({ alert });
  });
  api.use(createSeriesRouter({ core, read }));
  api.get('/changes', read, (req, res) => {
    res.json({ changes: core.recentChanges(limitParam(req)) });
  });
  api.get('/changes/:id', read, (req: Request<{ id: string }>, res) => {
    // The dashboard's deep links to a change: any change the server still holds in memory.
    const change = core.recentChanges(Number.POSITIVE_INFINITY).find((candidate) => candidate.id === req.params.id);
    if (!change) throw createError('CW_NOT_FOUND', `no change ${req.params.id}`);
    res.json({ change });
  });
  api.get('/stats/changes', read, (req, res) => {
    // Defaults to the last 7 days by the wall clock; the figures cover every change and alert still held in memory.
    const to = optionalTime(req, 'to') ?? Date.now();
    const from = optionalTime(req, 'from') ?? to - 7 * 86_400_000;
    if (from >= to) throw createError('CW_BAD_REQUEST', '"from" must be before "to"');
    res.json(computeChangeStats(core.recentChanges(Number.POSITIVE_INFINITY), core.alerts.list({ limit: Number.POSITIVE_INFINITY }), { from, to }));
  });
  api.get('/status', read, (_req, res) => {
    res.json({ stats: core.stats(publisher.ready), series: core.seriesCount, consumedOffsets: publisher.consumedOffsets(), assignedPartitions: publisher.assignedPartitions() });
  });
  api.get('/whoami', (req, res) => {
    // A presented token is always checked, even while anonymous reads are on: a sign-in form needs to know at once.
    res.json(whoAmI(deps.authenticator, bearerToken(req)));
  });
  api.get('/errors', read, (_req, res) => {
    res.json({ errors: describeErrorCodes() });
  });
  // The token is checked before the body is read: an unauthenticated caller never gets it parsed.
  api.post('/events', requireRole(deps.authenticator, 'ingest'), express.json({ limit: deps.maxBodyBytes, type: () => true }), async (req: Request, res: Response) => {
    const body: unknown = req.body;
    // CloudEvents HTTP binding: one structured-mode event as the body, or binary mode (ce- headers, the CDEvent as the body).
    const binary = isBinaryMode(req.headers as KafkaHeaders, 'ce-') ? readBinary(req.headers as KafkaHeaders, JSON.stringify(body ?? null), 'ce-') : undefined;
    const single = binary || (isObject(body) && Object.hasOwn(body, 'specversion')) ? [body] : undefined;
    const records = single ?? (Array.isArray(body) ? body : isObject(body) && Array.isArray(body.events) ? body.events : undefined);
    if (!records) throw createError('CW_BAD_REQUEST', 'the body must be a JSON array of records or { "events": [...] }');
    if (records.length > MAX_EVENTS_PER_REQUEST) throw createError('CW_BAD_REQUEST', `at most ${MAX_EVENTS_PER_REQUEST} records per request, got ${records.length}`);
    if (!publisher.ready) throw createError('CW_KAFKA_UNAVAILABLE', 'Kafka is not connected; nothing was accepted, retry later');
    const byKind: Record<EventKind, Array<{ key: string; value: string }>> = { change: [], metric: [], service: [] };
    const rejected: Array<{ index: number; error: { code: string; message: string } }> = [];
    const ignored: Array<{ index: number; reason: string }> = [];
    const now = Date.now();
    records.forEach((raw: unknown, index: number) => {
      const decoded = validateIngestRecord(raw, binary);
      if (decoded.ok === 'ignored') {
        ignored.push({ index, reason: decoded.reason });
        return;
      }
      let error = decoded.ok ? undefined : decoded.error;
      if (decoded.ok) {
        const record = decoded.value;
        const [kind, value] = Object.entries(record)[0] as [EventKind, Record<string, unknown>];
        error = checkFutureSkew(typeof value.timestamp === 'number' ? value.timestamp : null, now, deps.maxFutureSkewMs);
        if (!error) {
          // Normalized JSON (epoch-ms timestamps) goes to the topic, keyed by service like every producer.
          byKind[kind].push({ key: String(value.service ?? value.name), value: JSON.stringify(value) });
          return;
        }
      }
      rejected.push({ index, error: { code: error!.code, message: error!.message } });
      core.reject({ error: error!, original: jsonOf(raw), source: { kind: 'http', index } });
    });
    try {
      await Promise.all((Object.keys(byKind) as EventKind[]).filter((k) => byKind[k].length).map((k) => publisher.publish(k, byKind[k])));
    } catch (err) {
      deps.log.warn({ err }, 'POST /api/v1/events: Kafka did not acknowledge the records');
      throw createError('CW_KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the records (some may have been produced); retry later', undefined, { cause: err });
    }
    res.status(202).json({ accepted: records.length - rejected.length - ignored.length, rejected, ...(ignored.length ? { ignored } : {}) });
  });
  app.use('/api/v1', api);
  for (const router of deps.routers ?? []) app.use('/api/v1', router);
  app.use('/api', (_req, _res) => {
    throw createError('CW_NOT_FOUND', 'no such API route');
  });

  if (existsSync(deps.dashboardDir)) {
    app.use(express.static(deps.dashboardDir, { index: 'index.html', maxAge: '1h', setHeaders: noCacheForHtml }));
    // The dashboard is a single page: its own routes get index.html, and it routes on the client.
    app.get([...DASHBOARD_ROUTES], (_req, res) => {
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(path.join(deps.dashboardDir, 'index.html'));
    });
  }
  app.use((req, _res) => {
    throw createError('CW_NOT_FOUND', `no route ${req.method} ${req.path}`);
  });

  app.use(renderErrors(deps.log));
  return app;
}

/**
 * Who `token` is: its name and role; anonymous (no role) with no token while anonymous reads are on.
 * Throws `CW_AUTH_UNAUTHORIZED` (401) for an unknown token, or for none when reads need one.
 */
export function whoAmI(authenticator: Authenticator, token: string | undefined): WhoAmI {
  const actor = authenticator.authorizeRead(token);
  return { name: actor.name, ...(actor.role === undefined ? {} : { role: actor.role }), anonymousReads: authenticator.anonymousRead };
}

function noCacheForHtml(res: Response, file: string): void {
  if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
