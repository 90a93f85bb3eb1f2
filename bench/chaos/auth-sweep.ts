/**
 * The authorization sweep: lists every mutating route of changewatch's express app from its router
 * stack, calls each one over HTTP with no token, a wrong token and a viewer, an ingest and an
 * operator token, and compares every answer with what `MUTATION_ROLES` (server/http/auth.ts, the one
 * table README.md mirrors) says. Each call sends `{}` with placeholder ids, so a caller that passes
 * the auth check is refused on its merits (400/404) and nothing changes. test/server/http/auth-sweep.test.ts
 * runs it against a real service; `npm run bench:chaos` can run it against a running one.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Express } from 'express';
import { MUTATION_ROLES, READ_POSTS, roleAtLeast, type Role } from '../../server/http/auth.ts';

/** HTTP methods that change state; every route answering one of them is swept. */
export const MUTATING_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** What every path parameter (`:id`) is filled with: no record has this id. */
export const PLACEHOLDER_ID = 'cw-auth-sweep-placeholder';

/** A token no changewatch is configured with. */
const WRONG_TOKEN = 'cw_auth-sweep-wrong-token-0123456789';

/** Longest wait for one answer before the call counts as a mismatch. */
const CALL_TIMEOUT_MS = 10_000;

/** One mutating route, its path parameters filled with `PLACEHOLDER_ID`. */
export interface SweepRoute {
  method: string;
  path: string;
}

/** Who calls: nobody, an impostor, or a configured token of one role. */
export type Caller = 'no token' | 'wrong token' | 'viewer' | 'ingest' | 'operator';

/** Every caller the sweep tries, in the order it tries them. */
export const CALLERS: readonly Caller[] = ['no token', 'wrong token', 'viewer', 'ingest', 'operator'];

/** What a caller must get: 401, 403, or `allowed` (any other status: the auth check passed). */
export type Expected = 401 | 403 | 'allowed';

/** The outcome `caller` must get from a route that needs `least`: the rule behind the README's role table. */
export function expectedOutcome(least: Role, caller: Caller): Expected {
  if (caller === 'no token' || caller === 'wrong token') return 401;
  return roleAtLeast(caller, least) ? 'allowed' : 403;
}

/** `path` with every parameter (`:id`, `*rest`) replaced by `PLACEHOLDER_ID`. */
export function fillParams(path: string): string {
  return path.replace(/[:*][A-Za-z_$][\w$]*/g, PLACEHOLDER_ID);
}

/** Every `MUTATION_ROLES` entry as a filled route with its least role. */
function tableEntries(): Array<SweepRoute & { least: Role }> {
  // A POST that changes nothing (READ_POSTS) follows the read rule: with anonymous reads off, as the sweep runs, a viewer's.
  const entries: Array<[string, Role]> = [...Object.entries(MUTATION_ROLES), ...READ_POSTS.map((entry): [string, Role] => [entry, 'viewer'])];
  return entries.map(([entry, least]) => {
    const [method, path] = entry.split(' ') as [string, string];
    return { method, path: fillParams(path), least };
  });
}

/** The routes `MUTATION_ROLES` lists, filled like `mutatingRoutes` fills them. */
export function tableRoutes(): SweepRoute[] {
  return tableEntries().map(({ method, path }) => ({ method, path }));
}

/** The least role `MUTATION_ROLES` gives a route (filled or not), or `undefined` when it has no entry. */
export function leastRoleOf(route: SweepRoute): Role | undefined {
  const method = route.method.toUpperCase();
  const path = fillParams(route.path);
  return tableEntries().find((entry) => entry.method === method && entry.path === path)?.least;
}

/** The slice of an express (router 2.x) layer the enumeration reads. */
interface StackLayer {
  name: string;
  rawPath?: unknown;
  handle: { stack?: StackLayer[] };
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
}

/**
 * Every mutating route of `app`, read from its router stack (mounted routers included), with path
 * parameters filled. Throws on what it cannot enumerate (a mounted sub-app, a RegExp or array path
 * of a mutating route or a router) rather than skip a route.
 */
export function mutatingRoutes(app: Express): SweepRoute[] {
  const routes: SweepRoute[] = [];
  const visit = (stack: readonly StackLayer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        const { methods, path } = layer.route;
        const mutating = methods._all ? [...MUTATING_METHODS] : MUTATING_METHODS.filter((method) => methods[method.toLowerCase()]);
        // Read-only routes may have any path (the dashboard's fallback is a RegExp); they are not swept.
        for (const method of mutating) routes.push({ method, path: fillParams(joinPath(prefix, path) || '/') });
      } else if (layer.handle.stack) {
        visit(layer.handle.stack, joinPath(prefix, layer.rawPath ?? '/'));
      } else if (layer.name === 'mounted_app') {
        throw new Error(`cannot enumerate the routes of an express app mounted under ${prefix}${String(layer.rawPath)}; mount a Router instead`);
      }
    }
  };
  visit((app as unknown as { router: { stack: StackLayer[] } }).router.stack, '');
  return routes;
}

/** A layer's path under `prefix`, without a trailing slash; throws for a RegExp or array path, which have no one placeholder form. */
function joinPath(prefix: string, path: unknown): string {
  if (typeof path !== 'string') throw new Error(`cannot enumerate a route mounted with a non-string path under ${prefix || '/'}: ${String(path)}`);
  return prefix + path.replace(/\/+$/, '');
}

/**
 * The express app serving `server`'s requests, read off one request to `baseUrl` (`req.app`), since
 * socket.io wraps the server's request listener.
 */
export async function expressAppOf(server: Server, baseUrl: string): Promise<Express> {
  const app = new Promise<Express>((resolve) => {
    const listener = (req: IncomingMessage): void => {
      server.off('request', listener);
      resolve((req as IncomingMessage & { app: Express }).app);
    };
    server.on('request', listener);
  });
  const response = await fetch(`${baseUrl}/healthz`);
  await response.body?.cancel();
  return app;
}

/**
 * Calls every route as every caller and returns how many calls were made and one line per answer
 * that differs from `expectedOutcome` (or per route `MUTATION_ROLES` does not list).
 */
export async function authSweep(
  baseUrl: string,
  routes: ReadonlyArray<{ method: string; path: string }>,
  tokens: { viewer: string; ingest: string; operator: string },
): Promise<{ checked: number; mismatches: string[] }> {
  const mismatches: string[] = [];
  let checked = 0;
  for (const route of routes) {
    const method = route.method.toUpperCase();
    const path = fillParams(route.path);
    const least = leastRoleOf(route);
    if (least === undefined) {
      mismatches.push(`${method} ${path}: not in MUTATION_ROLES (server/http/auth.ts); add it with the role it needs`);
      continue;
    }
    for (const caller of CALLERS) {
      const token = caller === 'no token' ? undefined : caller === 'wrong token' ? WRONG_TOKEN : tokens[caller];
      const expected = expectedOutcome(least, caller);
      const got = await call(baseUrl, method, path, token);
      checked++;
      if (!matches(expected, got)) mismatches.push(`${method} ${path} with ${caller}: expected ${expected === 'allowed' ? 'neither 401 nor 403' : expected}, got ${got}`);
    }
  }
  return { checked, mismatches };
}

/** Whether an answer's status (or network failure) is what was expected. */
function matches(expected: Expected, got: number | string): boolean {
  if (typeof got === 'string') return false;
  return expected === 'allowed' ? got !== 401 && got !== 403 : got === expected;
}

/** One call with an empty JSON object; the status, or a description of why there was none. */
async function call(baseUrl: string, method: string, path: string, token: string | undefined): Promise<number | string> {
  try {
    const response = await fetch(baseUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: '{}',
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}
