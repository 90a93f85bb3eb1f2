/** The lifecycle API over a real store and a stand-in alert router; auth is a local token → actor table. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { SilenceBook } from '../../../server/alerts/stages/mute.ts';
import type { Incident } from '../../../contract/incident.ts';
import { createError } from '../../../server/errors.ts';
import type { Role } from '../../../server/http/auth.ts';
import { renderErrors } from '../../../server/http/errors.ts';
import { createIncidentsRouter } from '../../../server/http/incidents-routes.ts';
import { createLogger } from '../../../server/log.ts';
import { Store } from '../../../server/store/store.ts';
import { anAlert } from '../alerts/stages/fixtures.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const TOKENS: Record<string, { name: string; role: Role }> = { 'viewer-token': { name: 'vera', role: 'viewer' }, 'operator-token': { name: 'otto', role: 'operator' } };
const RANK: Role[] = ['viewer', 'operator', 'admin'];

/** A simple stand-in for auth.ts's requireRole: 401 without a known token, 403 below the role. */
const requireRole = (role: Role): RequestHandler => (req, res, next) => {
  const actor = TOKENS[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
  if (!actor) throw createError('CW_AUTH_UNAUTHORIZED', 'token required');
  if (RANK.indexOf(actor.role) < RANK.indexOf(role)) throw createError('CW_AUTH_FORBIDDEN', `needs ${role}`);
  res.locals.actor = actor;
  next();
};

const incident: Incident = {
  id: 'inc_1',
  groupKey: 'service=checkout',
  groupLabels: { service: 'checkout' },
  status: 'firing',
  severity: 'warning',
  title: 'checkout latency_p99 anomalous',
  service: 'checkout',
  environment: 'prod',
  alertIds: ['alrt-1'],
  startedAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-02T10:00:00.000Z',
};

async function setup() {
  const store = await Store.open();
  cleanup.push(() => store.close());
  await store.alerts.upsert(anAlert());
  await store.incidents.upsert(incident);
  const calls: Array<[string, string, string, string | undefined]> = [];
  const alertRouter = {
    acknowledge: async (id: string, actor: string, reason?: string) => (calls.push(['acknowledge', id, actor, reason]), { ...incident, status: 'acknowledged' as const, acknowledgedBy: actor }),
    resolve: async (id: string, actor: string, reason?: string) => (calls.push(['resolve', id, actor, reason]), { ...incident, status: 'resolved' as const }),
  };
  const silences = await SilenceBook.load(store.audit);
  const app = express();
  app.use('/api/v1', createIncidentsRouter({ store, alertRouter, silences, requireRole, read: (_req, _res, next) => next() }));
  app.use(renderErrors(createLogger('silent')));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as any) };
  };
  return { store, calls, call };
}

describe('incidents routes', { timeout: 60_000 }, () => {
  it('lists incidents with filters and shows one with its alerts', async () => {
    const { call } = await setup();
    expect((await call('GET', '/incidents')).body.incidents.map((i: Incident) => i.id)).toEqual(['inc_1']);
    expect((await call('GET', '/incidents?status=resolved')).body.incidents).toEqual([]);
    expect((await call('GET', '/incidents?status=bogus')).status).toBe(400);
    const one = await call('GET', '/incidents/inc_1');
    expect(one.body.alerts.map((a: { id: string }) => a.id)).toEqual(['alrt-1']);
    expect((await call('GET', '/incidents/nope')).status).toBe(404);
  });

  it('needs an operator to acknowledge or resolve, and passes the acting user and reason on', async () => {
    const { call, calls } = await setup();
    expect((await call('POST', '/incidents/inc_1/acknowledge')).status).toBe(401);
    expect((await call('POST', '/incidents/inc_1/acknowledge', 'viewer-token')).status).toBe(403);
    const acked = await call('POST', '/incidents/inc_1/acknowledge', 'operator-token', { reason: 'on it' });
    expect(acked).toMatchObject({ status: 200, body: { incident: { status: 'acknowledged', acknowledgedBy: 'otto' } } });
    expect((await call('POST', '/incidents/inc_1/resolve', 'operator-token')).status).toBe(200);
    expect((await call('POST', '/incidents/inc_1/resolve', 'operator-token', { extra: 1 })).status).toBe(400);
    expect(calls).toEqual([
      ['acknowledge', 'inc_1', 'otto', 'on it'],
      ['resolve', 'inc_1', 'otto', undefined],
    ]);
  });

  it('creates, lists and expires silences with their author, and audits both', async () => {
    const { call, store } = await setup();
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const body = { matchers: { service: ['checkout'] }, endsAt, comment: 'migration' };
    expect((await call('POST', '/silences', undefined, body)).status).toBe(401);
    expect((await call('POST', '/silences', 'operator-token', { ...body, matchers: {} })).status).toBe(400);
    expect((await call('POST', '/silences', 'operator-token', { ...body, comment: ' ' })).status).toBe(400);
    expect((await call('POST', '/silences', 'operator-token', { ...body, endsAt: '2020-01-01T00:00:00Z' })).status).toBe(400);
    const created = await call('POST', '/silences', 'operator-token', body);
    expect(created).toMatchObject({ status: 201, body: { silence: { createdBy: 'otto', comment: 'migration', endsAt } } });
    const id = created.body.silence.id as string;
    expect((await call('GET', '/silences')).body.silences.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await call('DELETE', `/silences/${id}`, 'viewer-token')).status).toBe(403);
    expect((await call('DELETE', `/silences/${id}`, 'operator-token')).status).toBe(204);
    expect((await call('DELETE', `/silences/${id}`, 'operator-token')).status).toBe(404);
    expect((await call('GET', '/silences')).body.silences).toEqual([]);
    expect((await store.audit.list({ action: 'silence.' })).map((e) => [e.actor, e.action])).toEqual([
      ['otto', 'silence.expire'],
      ['otto', 'silence.create'],
    ]);
  });
});
