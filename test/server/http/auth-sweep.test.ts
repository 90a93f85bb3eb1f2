import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { authSweep, CALLERS, expectedOutcome, expressAppOf, mutatingRoutes, tableRoutes, type SweepRoute } from '../../../bench/chaos/auth-sweep.ts';
import { MUTATION_ROLES, roleAtLeast, ROLES } from '../../../server/http/auth.ts';
import { renderErrors } from '../../../server/http/errors.ts';
import { createLogger } from '../../../server/log.ts';
import { startTestService, type TestService } from '../../support/service-harness.ts';
import { testAuthConfigFile, TEST_TOKENS } from '../../support/tokens.ts';

const brokers = inject('kafkaBrokers');
let service: TestService;
let routes: SweepRoute[];

beforeAll(async () => {
  // Reads need a token too, so the socket check below sees the read rule rather than anonymous access.
  service = await startTestService(brokers, { env: { CHANGEWATCH_CONFIG: testAuthConfigFile({ anonymousRead: false }) } });
  routes = mutatingRoutes(await expressAppOf(service.http, service.url));
});
afterAll(async () => {
  await service?.stop();
});

const byKey = (list: readonly SweepRoute[]) => list.map((route) => `${route.method} ${route.path}`).sort();

describe('authorization sweep of the real service', () => {
  it('finds every mutating route of the app, and exactly the ones MUTATION_ROLES lists', () => {
    expect(routes.length).toBeGreaterThan(0);
    expect(byKey(routes)).toEqual(byKey(tableRoutes()));
    expect(byKey(routes)).toContain('POST /api/v1/events');
    expect(byKey(routes)).toContain('POST /api/v1/rollbacks/cw-auth-sweep-placeholder/approve');
  });

  it('answers every mutating route with 401 without or with a wrong token, 403 below its role, and passes its role and above', async () => {
    const { checked, mismatches } = await authSweep(service.url, routes, TEST_TOKENS);
    expect(mismatches).toEqual([]);
    expect(checked).toBe(routes.length * CALLERS.length);
  });

  it('lets an ingest token post events and metrics and nothing else: no acknowledging, approving, lifting or kill switch', () => {
    const allowed = Object.entries(MUTATION_ROLES).filter(([, least]) => expectedOutcome(least, 'ingest') === 'allowed');
    expect(allowed.map(([route]) => route)).toEqual(['POST /api/v1/events', 'POST /v1/metrics']);
    expect(expectedOutcome(MUTATION_ROLES['POST /v1/metrics']!, 'viewer')).toBe(403);
    expect(expectedOutcome(MUTATION_ROLES['POST /api/v1/events']!, 'viewer')).toBe(403);
  });

  it('keeps every HTTP read on the read rule too: 401 without a token while anonymous reads are off, 200 with a viewer token', async () => {
    for (const path of ['/api/v1/alerts', '/api/v1/changes', '/api/v1/stats/changes', '/api/v1/status', '/api/v1/errors', '/api/v1/incidents', '/api/v1/rollbacks', '/metrics']) {
      expect([path, (await fetch(`${service.url}${path}`)).status]).toEqual([path, 401]);
      expect([path, (await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` } })).status]).toEqual([path, 200]);
    }
  });

  it('keeps socket.io on the read rule: refused without a token, accepted with a viewer or an ingest token', async () => {
    const attempt = (token?: string) =>
      new Promise<string>((resolve) => {
        const client = connect(service.url, { transports: ['websocket'], reconnection: false, ...(token ? { auth: { token } } : {}) });
        client.on('connect', () => {
          client.close();
          resolve('connected');
        });
        client.on('connect_error', (error: Error & { data?: { code?: string } }) => {
          client.close();
          resolve(error.data?.code ?? error.message);
        });
      });
    expect(await attempt()).toBe('CW_AUTH_UNAUTHORIZED');
    expect(await attempt('cw_not-a-configured-token')).toBe('CW_AUTH_UNAUTHORIZED');
    expect(await attempt(TEST_TOKENS.viewer)).toBe('connected');
    expect(await attempt(TEST_TOKENS.ingest)).toBe('connected');
  });

  it('is mirrored by the role table in README.md, row for row', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const [route, least] of Object.entries(MUTATION_ROLES)) {
      const marks = ROLES.map((role) => (roleAtLeast(role, least) ? '✓' : '—'));
      expect(readme).toContain(`| \`${route}\` | — | ${marks.join(' | ')} |`);
    }
  });
});

describe('authSweep', () => {
  it('reports a mutating route without auth and one the table does not list', async () => {
    const app = express();
    app.post('/api/v1/killswitch', (_req, res) => void res.json({ engaged: true }));
    const router = express.Router();
    router.put('/api/v1/unlisted/:id', (_req, res) => void res.status(204).end());
    app.use(router);
    app.use(renderErrors(createLogger('silent')));
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const found = mutatingRoutes(app);
      expect(found).toEqual([
        { method: 'POST', path: '/api/v1/killswitch' },
        { method: 'PUT', path: '/api/v1/unlisted/cw-auth-sweep-placeholder' },
      ]);
      const { checked, mismatches } = await authSweep(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, found, TEST_TOKENS);
      expect(checked).toBe(CALLERS.length);
      expect(mismatches).toEqual([
        'POST /api/v1/killswitch with no token: expected 401, got 200',
        'POST /api/v1/killswitch with wrong token: expected 401, got 200',
        'POST /api/v1/killswitch with viewer: expected 403, got 200',
        'POST /api/v1/killswitch with ingest: expected 403, got 200',
        'PUT /api/v1/unlisted/cw-auth-sweep-placeholder: not in MUTATION_ROLES (server/http/auth.ts); add it with the role it needs',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses to enumerate what it cannot see into', () => {
    const outer = express();
    outer.use('/api', express());
    expect(() => mutatingRoutes(outer)).toThrow(/mounted under \/api/);
    const regex = express();
    regex.post(/^\/api\/v1\/x$/, (_req, res) => void res.end());
    expect(() => mutatingRoutes(regex)).toThrow(/non-string path/);
  });
});
