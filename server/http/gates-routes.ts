/**
 * HTTP routes for progressive-delivery controllers, mounted at `/api/v1` (docs/actions.md, "Canary
 * gates"):
 *
 * - `GET /gates/analysis?service=&version=&environment=&author=&agent=&minConfidence=` for Argo
 *   Rollouts' web metric provider: always 200 with the assessment (`healthy` is what the
 *   AnalysisTemplate tests), since Argo counts a non-2xx answer as a measurement *error*, not a failure;
 * - `POST /gates/flagger/:hook` for Flagger's webhooks, one path per hook type because Flagger's
 *   payload (`name`, `namespace`, `phase`, `checksum`, `metadata`) does not say which hook sent it:
 *   200 is "yes" to the hook's question (advance; for `rollback`, roll back) and 409 is "no".
 *
 * Both are reads: nothing changes. The Flagger route is a POST only because Flagger sends nothing
 * else, so it follows the read rule (`READ_POSTS` in auth.ts), and since Flagger cannot send an
 * `Authorization` header, a viewer token may come in the webhook's `metadata.token` instead (never
 * a more powerful one: the Canary spec holding it is readable by whoever can read the Canary).
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AUTHOR_TYPES, type AuthorType } from '../../contract/events.ts';
import type { CanaryGates, CanaryQuery } from '../actions/gates.ts';
import { createError } from '../errors.ts';
import { bearerToken, readAccess, type Authenticator } from './auth.ts';
import { optionalEnum, optionalString, requiredString } from './query.ts';

/** Flagger hook types changewatch answers; `post-rollout` and `event` only notify, so they have nothing to ask. */
export const FLAGGER_HOOKS = ['confirm-rollout', 'pre-rollout', 'rollout', 'confirm-traffic-increase', 'confirm-promotion', 'rollback'] as const;
/** A Flagger hook type changewatch answers. */
export type FlaggerHook = (typeof FLAGGER_HOOKS)[number];

/** Status of a "no" to a Flagger hook: not an error, a verdict (any non-2xx halts; Flagger advances only on 200–202). */
export const FLAGGER_NO_STATUS = 409;

/** What the router needs. */
export interface GatesRouterDeps {
  authenticator: Authenticator;
  gates: CanaryGates;
}

/** Flagger's webhook payload (fluxcd/flagger `CanaryWebhookPayload`); unknown fields are ignored. */
interface FlaggerPayload {
  name: string;
  namespace: string;
  phase?: string;
  checksum?: string;
  metadata: Record<string, string>;
}

/** Builds the router; mount it with `app.use('/api/v1', createGatesRouter(deps))`. */
export function createGatesRouter(deps: GatesRouterDeps): Router {
  const { authenticator, gates } = deps;
  const router = express.Router();
  const read = readAccess(authenticator);

  router.get('/gates/analysis', read, async (req, res) => {
    const query = queryOf({
      service: requiredString(req, 'service'),
      version: optionalString(req, 'version'),
      environment: optionalString(req, 'environment'),
      authorType: optionalEnum(req, 'author', AUTHOR_TYPES),
      agent: optionalString(req, 'agent'),
      minConfidence: confidenceParam(optionalString(req, 'minConfidence'), 'minConfidence'),
    });
    res.setHeader('cache-control', 'no-store');
    res.json(await gates.assess(query));
  });

  router.post(
    '/gates/flagger/:hook',
    express.json({ limit: '16kb', type: () => true }),
    flaggerReadAccess(authenticator),
    async (req: Request<{ hook: string }>, res: Response) => {
      const hook = req.params.hook;
      if (!(FLAGGER_HOOKS as readonly string[]).includes(hook)) {
        throw createError('CW_NOT_FOUND', `no Flagger hook "${hook}" here; changewatch answers ${FLAGGER_HOOKS.join(', ')}`);
      }
      const payload = flaggerPayload(req.body);
      const meta = payload.metadata;
      const query = queryOf({
        // The canary is usually named after the workload it ships; metadata.service says otherwise.
        service: meta.service ?? payload.name,
        version: meta.version,
        environment: meta.environment,
        authorType: authorParam(meta.author),
        agent: meta.agent,
        minConfidence: confidenceParam(meta.minConfidence, 'metadata.minConfidence'),
      });
      const assessment = await gates.assess(query);
      const yes = hook === 'rollback' ? assessment.rollback.signal : assessment.healthy;
      const verdict = hook === 'rollback' ? (yes ? 'rollback' : 'no-rollback') : yes ? 'advance' : 'halt';
      const why = hook === 'rollback' ? assessment.rollback.reasons : assessment.reasons;
      res.setHeader('cache-control', 'no-store');
      // `message` first: Flagger copies a refused answer's body into the canary's events, which are cut short.
      res.status(yes ? 200 : FLAGGER_NO_STATUS).json({
        message: `${verdict}: ${why.join('; ')}`,
        hook,
        verdict,
        canary: { name: payload.name, namespace: payload.namespace, ...(payload.phase === undefined ? {} : { phase: payload.phase }), ...(payload.checksum === undefined ? {} : { checksum: payload.checksum }) },
        ...assessment,
      });
    },
  );

  return router;
}

/**
 * The read rule for Flagger: a bearer token when the request carries one (a proxy in front of
 * changewatch may add it); else a token in `metadata.token`, which must have exactly the viewer
 * role; else anonymous while `auth.anonymousRead` is true. The token is never echoed or logged.
 */
function flaggerReadAccess(authenticator: Authenticator) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = bearerToken(req);
    const body = req.body as { metadata?: unknown } | undefined;
    const metadata = isObject(body) && isObject(body.metadata) ? body.metadata : undefined;
    const fromMetadata = typeof metadata?.token === 'string' && metadata.token !== '' ? metadata.token : undefined;
    if (header !== undefined || fromMetadata === undefined) {
      res.locals.actor = authenticator.authorizeRead(header);
      next();
      return;
    }
    const actor = authenticator.authorize(fromMetadata, 'viewer');
    if (actor.role !== 'viewer') {
      throw createError(
        'CW_AUTH_FORBIDDEN',
        `a token in webhook metadata must have the viewer role, since the Canary spec holds it in clear; token "${actor.name}" has ${actor.role}: use a viewer token there`,
        { required: 'viewer', role: actor.role },
      );
    }
    res.locals.actor = actor;
    next();
  };
}

/** Validates Flagger's payload: `name` and `namespace` strings, `metadata` a map of strings when present. */
function flaggerPayload(body: unknown): FlaggerPayload {
  if (!isObject(body)) throw createError('CW_BAD_REQUEST', 'the body must be Flagger\'s webhook payload: { "name", "namespace", "phase", "checksum", "metadata" }');
  const problems: string[] = [];
  const text = (name: string, required: boolean): string | undefined => {
    const value = body[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || (required && value.trim() === '')) {
      problems.push(`"${name}" must be a${required ? ' non-empty' : ''} string`);
      return undefined;
    }
    return value;
  };
  const name = text('name', true);
  const namespace = text('namespace', true);
  const phase = text('phase', false);
  const checksum = text('checksum', false);
  const metadata: Record<string, string> = {};
  if (body.metadata !== undefined && body.metadata !== null) {
    if (!isObject(body.metadata)) problems.push('"metadata" must be an object of strings');
    else {
      for (const [key, value] of Object.entries(body.metadata)) {
        if (typeof value !== 'string') problems.push(`"metadata.${key}" must be a string`);
        else if (key !== 'token') metadata[key] = value.trim();
      }
    }
  }
  if (problems.length > 0) throw createError('CW_BAD_REQUEST', `not a Flagger webhook payload: ${problems.join('; ')}`);
  return { name: name!, namespace: namespace!, ...(phase === undefined ? {} : { phase }), ...(checksum === undefined ? {} : { checksum }), metadata };
}

/** A `CanaryQuery` without the keys whose value is missing or empty. */
function queryOf(fields: { service: string; version?: string | undefined; environment?: string | undefined; authorType?: AuthorType | undefined; agent?: string | undefined; minConfidence?: number | undefined }): CanaryQuery {
  const query: CanaryQuery = { service: fields.service.trim() };
  if (!query.service) throw createError('CW_BAD_REQUEST', '"service" must not be empty');
  if (fields.version) query.version = fields.version;
  if (fields.environment) query.environment = fields.environment;
  if (fields.authorType) query.authorType = fields.authorType;
  if (fields.agent) query.agent = fields.agent;
  if (fields.minConfidence !== undefined) query.minConfidence = fields.minConfidence;
  return query;
}

function authorParam(value: string | undefined): AuthorType | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(AUTHOR_TYPES as readonly string[]).includes(value)) throw createError('CW_BAD_REQUEST', `"metadata.author" must be one of ${AUTHOR_TYPES.join(', ')}`);
  return value as AuthorType;
}

function confidenceParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw createError('CW_BAD_REQUEST', `"${name}" must be a number from 0 to 1`);
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
