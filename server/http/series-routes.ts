/**
 * The series-history routes, mounted at `/api/v1`, for the dashboard's metric charts: a series' recent
 * downsampled values with the detector's expected value and band, one line per version while a rollout
 * splits it, and the changes on its service and the services it depends on within the window.
 *
 * `GET /series/:key/points` takes a series key (`service\0metric\0scope`, URL-encoded);
 * `GET /alerts/:id/points` answers the same for the series an alert is on, which is what the
 * dashboard asks for (an alert does not carry its series key; its id is derived from it).
 *
 * Charts poll these while they are on screen rather than the server pushing every series point over
 * the socket: a push would cost the server work for every point of every series with an open alert,
 * whether anyone looks or not, while a poll costs one small read per visible chart per interval.
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { ChangeEvent } from '../../contract/events.ts';
import type { SeriesPointsResponse } from '../../contract/series.ts';
import { metricKindOf } from '../../detectors/metric-kind.ts';
import type { Changewatch } from '../core.ts';
import { createError } from '../errors.ts';
import { alertId } from '../pipeline/pipeline.ts';
import { HISTORY_BUCKET_MS, HISTORY_SPAN_MS } from '../pipeline/series-history.ts';
import { optionalString, optionalTime } from './query.ts';

/** Most points one response may hold; a smaller `step` over a wider window is refused. */
const MAX_POINTS = 1_000;

/** What the routes need. */
export interface SeriesRouterDeps {
  core: Pick<Changewatch, 'seriesHistory' | 'recentChanges' | 'alerts'>;
  /** Middleware for reads (anonymous allowed or a viewer token). */
  read: RequestHandler;
}

/** Builds the router; mount it with `app.use('/api/v1', createSeriesRouter(deps))`. */
export function createSeriesRouter(deps: SeriesRouterDeps): Router {
  const { core, read } = deps;
  const router = express.Router();
  router.get('/series/:key/points', read, (req: Request<{ key: string }>, res) => {
    const window = windowParams(req);
    if (!core.seriesHistory.has(req.params.key)) throw createError('CW_NOT_FOUND', `no history for series ${JSON.stringify(req.params.key)}`);
    res.json(pointsOf(deps, req.params.key, window));
  });
  router.get('/alerts/:id/points', read, (req: Request<{ id: string }>, res) => {
    const window = windowParams(req);
    const alert = core.alerts.get(req.params.id);
    if (!alert) throw createError('CW_NOT_FOUND', `no alert ${req.params.id}`);
    const onset = Date.parse(alert.startedAt);
    const key = core.seriesHistory.keysOf(alert.service, alert.metric).find((candidate) => alertId(candidate, onset) === alert.id);
    if (key === undefined) throw createError('CW_NOT_FOUND', `no history for the series of alert ${alert.id} (it starts empty after a restart and ends when the series is forgotten)`);
    res.json(pointsOf(deps, key, window));
  });
  return router;
}

/** The `from`, `to` and `step` query parameters, checked. */
function windowParams(req: Request): { from?: number; to?: number; step?: number } {
  const from = optionalTime(req, 'from');
  const to = optionalTime(req, 'to');
  const stepText = optionalString(req, 'step');
  if (from !== undefined && to !== undefined && from >= to) throw createError('CW_BAD_REQUEST', '"from" must be before "to"');
  let step: number | undefined;
  if (stepText !== undefined) {
    step = Number(stepText);
    if (!/^\d+$/.test(stepText) || step < 1 || step > HISTORY_SPAN_MS) {
      throw createError('CW_BAD_REQUEST', `"step" must be a whole number of milliseconds from 1 to ${HISTORY_SPAN_MS} (it is rounded up to a multiple of ${HISTORY_BUCKET_MS})`);
    }
    if (from !== undefined && to !== undefined && (to - from) / Math.max(step, HISTORY_BUCKET_MS) > MAX_POINTS) {
      throw createError('CW_BAD_REQUEST', `"from" to "to" in steps of "step" would be more than ${MAX_POINTS} points`);
    }
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }), ...(step === undefined ? {} : { step }) };
}

/** The response for a series known to have history. */
function pointsOf(deps: SeriesRouterDeps, key: string, params: { from?: number; to?: number; step?: number }): SeriesPointsResponse {
  const history = deps.core.seriesHistory;
  const window = history.window(key, params)!;
  const to = params.to ?? window.newest;
  const from = params.from ?? to - HISTORY_SPAN_MS;
  const services = history.serviceAndDependencies(window.service);
  const changes: ChangeEvent[] = deps.core
    .recentChanges(Number.POSITIVE_INFINITY)
    .filter((change) => change.timestamp >= from && change.timestamp < to && services.includes(change.service))
    .reverse();
  return {
    series: { key, service: window.service, metric: window.metric, kind: metricKindOf(window.metric) },
    from,
    to,
    step: window.step,
    points: window.points.map((p) => ({ time: p.time, value: p.value, expected: finite(p.expected), lower: finite(p.lower), upper: finite(p.upper) })),
    versions: window.versions.map((v) => ({ version: v.version, values: v.values.map(finite) })),
    services,
    changes,
  };
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
