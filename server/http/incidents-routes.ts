/**
 * HTTP routes for the incident lifecycle, mounted at `/api/v1`: list and read incidents with their
 * alerts, acknowledge and resolve them, and manage silences. Reads go through `read` (anonymous
 * while `auth.anonymousRead` is true); every mutation needs an operator token, whose name is what
 * the audit log records.
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { ALERT_STATUSES, SEVERITIES } from '../../contract/alert.ts';
import type { AlertRouter } from '../alerts/alert-router.ts';
import { muteMatchersSchema } from '../alerts/stages/config.ts';
import type { SilenceBook } from '../alerts/stages/mute.ts';
import { createError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { actorOf, type Role } from './auth.ts';
import { limitParam, optionalEnumList, optionalString } from './query.ts';

/** What the router needs; the auth middleware is injected so this file does not depend on how tokens work. */
export interface IncidentsRouterDeps {
  store: Store;
  alertRouter: Pick<AlertRouter, 'acknowledge' | 'resolve'>;
  silences: SilenceBook;
  /** Middleware requiring at least `role`; must set `res.locals.actor = { name, role }`. */
  requireRole: (role: Role) => RequestHandler;
  /** Middleware for reads (anonymous allowed or a viewer token). */
  read: RequestHandler;
}

const actionBody = z.strictObject({ reason: z.string().max(1_000).optional() }).default({});
const silenceBody = z.strictObject({
  matchers: muteMatchersSchema,
  startsAt: z.iso.datetime({ offset: true }).optional(),
  endsAt: z.iso.datetime({ offset: true }),
  comment: z.string().trim().min(1, 'say why (it is shown to whoever wonders why nothing paged)').max(1_000),
});

/** Builds the router; mount it with `app.use('/api/v1', createIncidentsRouter(deps))`. */
export function createIncidentsRouter(deps: IncidentsRouterDeps): Router {
  const { store, alertRouter, silences, read } = deps;
  const operator = deps.requireRole('operator');
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  router.get('/incidents', read, async (req, res) => {
    const status = optionalEnumList(req, 'status', ALERT_STATUSES);
    const severity = optionalEnumList(req, 'severity', SEVERITIES);
    const service = optionalString(req, 'service');
    const limit = limitParam(req);
    res.json({ incidents: await store.incidents.list({ ...(status ? { status } : {}), ...(severity ? { severity } : {}), ...(service ? { service } : {}), limit }) });
  });

  router.get('/incidents/:id', read, async (req, res) => {
    const incident = await store.incidents.get(req.params.id as string);
    if (!incident) throw createError('CW_NOT_FOUND', `no incident ${req.params.id}`);
    res.json({ incident, alerts: await store.alerts.getMany(incident.alertIds) });
  });

  router.post('/incidents/:id/acknowledge', operator, async (req, res) => {
    const { reason } = parseBody(actionBody, req);
    res.json({ incident: await alertRouter.acknowledge(req.params.id as string, actorOf(res).name, reason) });
  });

  router.post('/incidents/:id/resolve', operator, async (req, res) => {
    const { reason } = parseBody(actionBody, req);
    res.json({ incident: await alertRouter.resolve(req.params.id as string, actorOf(res).name, reason) });
  });

  router.get('/silences', read, (_req, res) => {
    res.json({ silences: silences.list() });
  });

  router.post('/silences', operator, async (req, res) => {
    const input = parseBody(silenceBody, req);
    if (Date.parse(input.endsAt) <= Math.max(Date.now(), input.startsAt ? Date.parse(input.startsAt) : 0)) {
      throw createError('CW_BAD_REQUEST', 'endsAt must be in the future and after startsAt');
    }
    res.status(201).json({ silence: await silences.create(store.audit, input, actorOf(res).name) });
  });

  router.delete('/silences/:id', operator, async (req, res) => {
    const { reason } = parseBody(actionBody, req);
    if (!(await silences.expire(store.audit, req.params.id as string, actorOf(res).name, reason ?? 'expired through the API'))) {
      throw createError('CW_NOT_FOUND', `no active silence ${req.params.id}`);
    }
    res.status(204).end();
  });

  return router;
}

function parseBody<T extends z.ZodType>(schema: T, req: Request): z.output<T> {
  const parsed = schema.safeParse(req.body ?? undefined);
  if (!parsed.success) {
    throw createError('CW_BAD_REQUEST', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  }
  return parsed.data;
}
