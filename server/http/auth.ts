/**
 * API tokens and roles. The config holds SHA-256 hashes of tokens, never the tokens; a request
 * presents `Authorization: Bearer <token>`, which is hashed and compared in constant time with
 * every configured hash. Roles are ordered viewer < ingest < operator < admin, and
 * `MUTATION_ROLES` says which one each mutating route needs. Tokens are never logged:
 * nothing here writes the presented token anywhere, and errors name the token, never its value.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ROLES, authConfigSchema, type AuthConfig, type Role } from '../auth-config.ts';
import { createError, type ChangewatchError } from '../errors.ts';

export { ROLES, authConfigSchema, type AuthConfig, type Role };

/** Who is calling: a named token and its role, or an anonymous reader. */
export interface Actor {
  /** The token's configured name (recorded in the audit log), or `anonymous`. */
  name: string;
  /** `undefined` for an anonymous reader. */
  role?: Role;
}

/**
 * The least role each mutating API route needs (`METHOD /path` as the app mounts it). The routes
 * enforce it with `requireRole`; the auth sweep (bench/chaos/auth-sweep.ts) checks every mutating
 * route of the real app against this table, so a route missing here fails it, and the role table in
 * README.md mirrors it.
 */
export const MUTATION_ROLES: Readonly<Record<string, Role>> = Object.freeze({
  'POST /api/v1/events': 'ingest',
  'POST /v1/metrics': 'ingest',
  'POST /api/v1/incidents/:id/acknowledge': 'operator',
  'POST /api/v1/incidents/:id/resolve': 'operator',
  'POST /api/v1/silences': 'operator',
  'DELETE /api/v1/silences/:id': 'operator',
  'POST /api/v1/rollbacks/:id/approve': 'operator',
  'POST /api/v1/rollbacks/:id/deny': 'operator',
  'POST /api/v1/killswitch': 'operator',
  'POST /api/v1/freezes/:id/lift': 'operator',
});

/**
 * POST routes that change nothing: a controller's question sent the only way it can send it
 * (Flagger's webhooks are POSTs). They follow the read rule, not `MUTATION_ROLES`; the auth sweep
 * checks them as viewer routes (it runs with anonymous reads off).
 */
export const READ_POSTS: readonly string[] = Object.freeze(['POST /api/v1/gates/flagger/:hook']);

/** Name of the admin token generated when none is configured. */
export const GENERATED_TOKEN_NAME = 'generated-admin';

/** The hex SHA-256 of a token, as the config stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A configured token with its hash as bytes. */
interface KnownToken {
  name: string;
  role: Role;
  digest: Buffer;
}

/** What `Authenticator.fromConfig` returns. */
export interface AuthSetup {
  authenticator: Authenticator;
  /**
   * Set only when the config has no tokens: a fresh admin token the caller must print once (to
   * stdout, not the structured log) so an operator can use it; it is required from then on.
   */
  generatedToken?: string;
}

/** Verifies tokens against the configured hashes. */
export class Authenticator {
  private constructor(
    private readonly tokens: readonly KnownToken[],
    /** Whether reads need no token. */
    readonly anonymousRead: boolean,
  ) {}

  /**
   * Builds the authenticator; with no token configured it generates an admin token (32 random
   * bytes, base64url, prefixed `cw_`) so the API is never left open to mutation.
   */
  static fromConfig(config: AuthConfig, generate: () => string = () => `cw_${randomBytes(32).toString('base64url')}`): AuthSetup {
    const known = config.tokens.map((token) => ({ name: token.name, role: token.role, digest: Buffer.from(token.sha256, 'hex') }));
    if (known.length > 0) return { authenticator: new Authenticator(known, config.anonymousRead) };
    const generatedToken = generate();
    const generated = { name: GENERATED_TOKEN_NAME, role: 'admin' as const, digest: Buffer.from(hashToken(generatedToken), 'hex') };
    return { authenticator: new Authenticator([generated], config.anonymousRead), generatedToken };
  }

  /** The actor a token belongs to, or `undefined` for an unknown token. Compares against every hash. */
  authenticate(token: string): Actor | undefined {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let match: KnownToken | undefined;
    // No early exit: the time taken does not depend on which (if any) configured token matched.
    for (const known of this.tokens) {
      if (timingSafeEqual(digest, known.digest) && match === undefined) match = known;
    }
    return match && { name: match.name, role: match.role };
  }

  /**
   * The actor for a presented token when `minimum` is required; throws `CW_AUTH_UNAUTHORIZED`
   * for a missing or unknown token and `CW_AUTH_FORBIDDEN` for a role below `minimum`.
   */
  authorize(token: string | undefined, minimum: Role): Actor {
    if (token === undefined || token === '') throw createError('CW_AUTH_UNAUTHORIZED', 'an API token is required (Authorization: Bearer <token>)');
    const actor = this.authenticate(token);
    if (!actor) throw createError('CW_AUTH_UNAUTHORIZED', 'the API token is not valid');
    if (!hasRole(actor, minimum)) {
      throw createError('CW_AUTH_FORBIDDEN', `this action needs the ${minimum} role; token "${actor.name}" has ${actor.role}`, {
        required: minimum,
        role: actor.role,
      });
    }
    return actor;
  }

  /** The actor for a read: anonymous when allowed and no token is given, else as `authorize(token, 'viewer')`. */
  authorizeRead(token: string | undefined): Actor {
    if (this.anonymousRead && (token === undefined || token === '')) return { name: 'anonymous' };
    return this.authorize(token, 'viewer');
  }
}

/** True when the actor's role is at least `minimum`. */
export function hasRole(actor: Actor, minimum: Role): boolean {
  return actor.role !== undefined && roleAtLeast(actor.role, minimum);
}

/** True when `role` is `minimum` or above it in `ROLES`. */
export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** The bearer token of a request, or `undefined`; any other scheme counts as no token. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The actor a previous auth middleware stored on the response. */
export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw createError('CW_INTERNAL', 'route is missing its auth middleware');
  return actor;
}

/** Express middleware: requires a token with at least `minimum`; sets `res.locals.actor`. */
export function requireRole(authenticator: Authenticator, minimum: Role): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.actor = authenticator.authorize(bearerToken(req), minimum);
    next();
  };
}

/** Express middleware for reads: anonymous while `anonymousRead` is true, else a viewer token; sets `res.locals.actor`. */
export function readAccess(authenticator: Authenticator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.locals.actor = authenticator.authorizeRead(bearerToken(req));
    next();
  };
}

/** The slice of a socket.io socket the middleware reads and writes. */
export interface AuthenticatableSocket {
  handshake: { auth: Record<string, unknown> };
  data: { actor?: Actor };
}

/**
 * socket.io middleware (`io.use(socketReadAccess(authenticator))`): the token comes from
 * `io(url, { auth: { token } })`; connections are read-only, so the read rule applies.
 */
export function socketReadAccess(authenticator: Authenticator): (socket: AuthenticatableSocket, next: (error?: Error) => void) => void {
  return (socket, next) => {
    const token = socket.handshake.auth.token;
    try {
      socket.data.actor = authenticator.authorizeRead(typeof token === 'string' ? token : undefined);
      next();
    } catch (error) {
      // socket.io sends `message` and `data` to the client as the connect_error.
      const cw = error as ChangewatchError;
      next(Object.assign(new Error(cw.message), { data: cw.toJSON().error }));
    }
  };
}
