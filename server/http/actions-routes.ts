/**
 * HTTP routes for guarded automation, mounted at `/api/v1`: the CD gate, rollback approvals, the
 * kill switch, freezes and the audit log. Reads follow `auth.anonymousRead`; every mutation needs
 * an operator token (the audit log needs at least a viewer token, even when reads are anonymous,
 * since it names people). The acting token's name is what the audit log records.
 */
import express, { type ErrorRequestHandler, type Request, type Router } from 'express';
import { AUTHOR_TYPES, type AuthorType } from '../../contract/events.ts';
import type { FreezeService } from '../actions/freeze.ts';
import type { KillSwitch } from '../actions/kill-switch.ts';
import { toRollbackView, type RollbackService } from '../actions/rollback-service.ts';
import type { AutomationSnapshot } from '../../contract/automation.ts';
import { createError, isChangewatchError } from '../errors.ts';
import { ACTION_STATUSES, type ActionStatus } from '../store/repositories/actions.ts';
import type { AuditRepository } from '../store/repositories/audit.ts';
import { actorOf, readAccess, requireRole, type Authenticator } from './auth.ts';

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
    const author = requiredString(req, 'author');
    if (!(AUTHOR_TYPES as readonly string[]).includes(author)) {
      throw createError('CW_BAD_REQUEST', `"author" must be one of ${AUTHOR_TYPES.join(', ')}`, { author });
    }
    const agent = optionalString(req, 'agent');
    res.json(await freezes.gate({ service, authorType: author as AuthorType, ...(agent === undefined ? {} : { agent }) }));
  });

  router.get('/rollbacks', read, async (req, res) => {
    const status = optionalString(req, 'status');
    const statuses = status?.split(',');
    if (statuses?.some((value) => !(ACTION_STATUSES as readonly string[]).includes(value))) {
      throw createError('CW_BAD_REQUEST', `"status" must be a comma-separated list of ${ACTION_STATUSES.join(', ')}`);
    }
    const service = optionalString(req, 'service');
    const found = await rollbacks.list({
      ...(statuses ? { status: statuses as ActionStatus[] } : {}),
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
    const rollback = await rollbacks.approve(req.params.id as string, actorOf(res).name, comment);
    deps.onChanged?.();
    res.json({ rollback: toRollbackView(rollback) });
  });
  router.post('/rollbacks/:id/deny', operator, async (req, res) => {
    const reason = bodyString(req, 'reason');
    if (!reason) throw createError('CW_BAD_REQUEST', 'a "reason" is required to deny a rollback');
    const rollback = await rollbacks.deny(req.params.id as string, actorOf(res).name, reason);
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
    res.json({ freezes: await freezes.list({ includeLifted: req.query.all === 'true', limit: limitParam(req) }) });
  });
  router.post('/freezes/:id/lift', operator, async (req, res) => {
    const reason = bodyString(req, 'reason');
    if (!reason) throw createError('CW_BAD_REQUEST', 'a "reason" is required to lift a freeze');
    const freeze = await freezes.lift(req.params.id as string, actorOf(res).name, reason);
    deps.onChanged?.();
    res.json({ freeze });
  });

  router.get('/audit', viewer, async (req, res) => {
    const beforeId = optionalString(req, 'beforeId');
    if (beforeId !== undefined && !/^\d+$/.test(beforeId)) throw createError('CW_BAD_REQUEST', '"beforeId" must be an integer');
    const since = optionalTime(req, 'since');
    const until = optionalTime(req, 'until');
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
        ...(beforeId === undefined ? {} : { beforeId: Number(beforeId) }),
        limit: limitParam(req),
      }),
    });
  });

  router.use(renderChangewatchErrors);
  return router;
}

/**
 * Renders registered errors as `{ error: { code, message, details } }` here, so the router is
 * self-contained; anything else goes on to the app's error handler (logged, rendered CW_INTERNAL).
 */
const renderChangewatchErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (!isChangewatchError(error)) {
    const bodyError = error as { type?: string };
    if (bodyError.type === 'entity.parse.failed') {
      res.status(400).json(createError('CW_BAD_REQUEST', 'request body is not valid JSON').toJSON());
      return;
    }
    next(error);
    return;
  }
  res.status(error.statusCode).json(error.toJSON());
};

/** A non-empty query string parameter, or `undefined`. */
function optionalString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw createError('CW_BAD_REQUEST', `"${name}" must be given once`);
  return value;
}

/** A required query string parameter. */
function requiredString(req: Request, name: string): string {
  const value = optionalString(req, name);
  if (value === undefined) throw createError('CW_BAD_REQUEST', `query parameter "${name}" is required`);
  return value;
}

/** An ISO-8601 time query parameter, normalized. */
function optionalTime(req: Request, name: string): string | undefined {
  const value = optionalString(req, name);
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw createError('CW_BAD_REQUEST', `"${name}" must be an ISO-8601 time`);
  return new Date(ms).toISOString();
}

/** `limit` in [1, 1000], default 100. */
function limitParam(req: Request): number {
  const value = optionalString(req, 'limit');
  if (value === undefined) return 100;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw createError('CW_BAD_REQUEST', '"limit" must be an integer from 1 to 1000');
  return limit;
}

/** A trimmed string field of the JSON body, or `undefined`. */
function bodyString(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw createError('CW_BAD_REQUEST', `"${name}" must be a string`);
  return value.trim() || undefined;
}
