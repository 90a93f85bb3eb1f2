/**
 * HTTP routes for guarded automation, mounted at `/api/v1`: the CD gate, rollback approvals, the
 * kill switch, freezes and the audit log. Reads follow `auth.anonymousRead`; every mutation needs
 * an operator token (the audit log needs at least a viewer token, even when reads are anonymous,
 * since it names people). The acting token's name is what the audit log records.
 */
import express, { type Request, type Router } from 'express';
import { AUTHOR_TYPES } from '../../contract/events.ts';
import type { FreezeService } from '../actions/freeze.ts';
import type { KillSwitch } from '../actions/kill-switch.ts';
import type { RollbackService } from '../actions/rollback-service.ts';
import { toRollbackView } from '../actions/rollback-view.ts';
import type { AutomationSnapshot } from '../../contract/automation.ts';
import { createError } from '../errors.ts';
import { ACTION_STATUSES } from '../store/repositories/actions.ts';
import type { AuditRepository } from '../store/repositories/audit.ts';
import { actorOf, readAccess, requireRole, type Authenticator } from './auth.ts';
import { limitParam, optionalEnumList, optionalInteger, optionalString, optionalTime, requiredEnum, requiredString } from './query.ts';

/** What the router needs. */
export interface ActionsRouterDeps {
  authenticator: Authenticator;
  rollbacks: RollbackService;
  freezes: FreezeService;
  killSwitch: KillSwitch;
  audit: AuditRepository;
  /**
   * Called after every mutation (approve, deny, kill switch, lift): an approved rollback is sent
   * without waiting for the timer, one cancelled by the kill switch is marked so, and dashboards hear of it.
   */
  onChanged?: () => void;
  /** The dashboard's automation snapshot, for `GET /automation`. */
  snapshot?: () => Promise<AutomationSnapshot>;
}

/** Builds the router; mount it with `app.use('/api/v1', createActionsRouter(deps))`. */
export function createActionsRouter(deps: ActionsRouterDeps): Router {
  const { authenticator, rollbacks, freezes, killSwitch, audit } = deps;
  const router = express.Router();
  const read = readAccess(authenticator);
  const viewer = requireRole(authenticator, 'viewer');
  const operator = requireRole(authenticator, 'operator');
  router.use(express.json({ limit: '16kb' }));

  router.get('/gate', read, async (req, res) => {
    const service = requiredString(req, 'service');
    const authorType = requiredEnum(req, 'author', AUTHOR_TYPES);
    const agent = optionalString(req, 'agent');
    res.json(await freezes.gate({ service, authorType, ...(agent === undefined ? {} : { agent }) }));
  });

  router.get('/rollbacks', read, async (req, res) => {
    const statuses = optionalEnumList(req, 'status', ACTION_STATUSES);
    const service = optionalString(req, 'service');
    const found = await rollbacks.list({
      ...(statuses ? { status: statuses } : {}),
      ...(service === undefined ? {} : { service }),
      limit: limitParam(req),
    });
    res.json({ rollbacks: found.map(toRollbackView) });
  });
  router.get('/rollbacks/:id', read, async (req, res) => {
    res.json({ rollback: toRollbackView(await rollbacks.getRollback(req.params.id as string)) });
  });
  router.post('/rollbacks/:id/approve', operator, async (req, res) => {
    const comment = bodyString(req, 'comment');
    const rollback = await rollbacks.approvals.approve(req.params.id as string, actorOf(res).name, comment);
    deps.onChanged?.();
    res.json({ rollback: toRollbackView(rollback) });
  });
  router.post('/rollbacks/:id/deny', operator, async (req, res) => {
    const reason = bodyString(req, 'reason');
    if (!reason) throw createError('CW_BAD_REQUEST', 'a "reason" is required to deny a rollback');
    const rollback = await rollbacks.approvals.deny(req.params.id as string, actorOf(res).name, reason);
    deps.onChanged?.();
    res.json({ rollback: toRollbackView(rollback) });
  });

  router.get('/automation', read, async (_req, res) => {
    if (!deps.snapshot) throw createError('CW_NOT_FOUND', 'automation is not enabled in this server');
    res.json(await deps.snapshot());
  });

  router.get('/killswitch', read, async (_req, res) => {
    res.json(await killSwitch.state());
  });
  router.post('/killswitch', operator, async (req, res) => {
    const engaged = (req.body as Record<string, unknown> | undefined)?.engaged;
    if (typeof engaged !== 'boolean') throw createError('CW_BAD_REQUEST', 'body must be { "engaged": true|false, "reason": "..." }');
    const reason = bodyString(req, 'reason');
    if (!reason) throw createError('CW_BAD_REQUEST', 'a "reason" is required to flip the kill switch');
    const state = await killSwitch.set(engaged, actorOf(res).name, reason);
    // Engaging cancels approved rollbacks not yet sent; the delivery pass behind onChanged does that.
    deps.onChanged?.();
    res.json(state);
  });

  router.get('/freezes', read, async (req, res) => {
    res.json({ freezes: await freezes.list({ includeLifted: optionalString(req, 'all') === 'true', limit: limitParam(req) }) });
  });
  router.post('/freezes/:id/lift', operator, async (req, res) => {
    const reason = bodyString(req, 'reason');
    if (!reason) throw createError('CW_BAD_REQUEST', 'a "reason" is required to lift a freeze');
    const freeze = await freezes.lift(req.params.id as string, actorOf(res).name, reason);
    deps.onChanged?.();
    res.json({ freeze });
  });

  router.get('/audit', viewer, async (req, res) => {
    const beforeId = optionalInteger(req, 'beforeId');
    const since = isoTime(optionalTime(req, 'since'));
    const until = isoTime(optionalTime(req, 'until'));
    const actor = optionalString(req, 'actor');
    const action = optionalString(req, 'action');
    const target = optionalString(req, 'target');
    res.json({
      entries: await audit.list({
        ...(actor === undefined ? {} : { actor }),
        ...(action === undefined ? {} : { action }),
        ...(target === undefined ? {} : { target }),
        ...(since === undefined ? {} : { since }),
        ...(until === undefined ? {} : { until }),
        ...(beforeId === undefined ? {} : { beforeId }),
        limit: limitParam(req),
      }),
    });
  });

  return router;
}

/** Epoch milliseconds as the ISO-8601 string the audit repository filters on. */
function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** A trimmed string field of the JSON body, or `undefined`. */
function bodyString(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw createError('CW_BAD_REQUEST', `"${name}" must be a string`);
  return value.trim() || undefined;
}
