import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreezeService, freezeConfigSchema } from '../../../server/actions/freeze.ts';
import { KillSwitch } from '../../../server/actions/kill-switch.ts';
import { RollbackService } from '../../../server/actions/rollback-service.ts';
import { createActionsRouter } from '../../../server/http/actions-routes.ts';
import { Authenticator, authConfigSchema, hashToken } from '../../../server/http/auth.ts';
import { renderErrors } from '../../../server/http/errors.ts';
import { createLogger } from '../../../server/log.ts';
import { Store } from '../../../server/store/store.ts';
import { candidate, rollbackConfig, suspect } from '../actions/fixtures.ts';

const TOKENS = { viewer: 'viewer-token-abcdef123', operator: 'operator-token-abcdef123', colleague: 'colleague-token-abcdef123' };

let store: Store;
let server: Server;
let base: string;
let rollbacks: RollbackService;
let freezes: FreezeService;
let approvedCallbacks = 0;

beforeAll(async () => {
  store = await Store.open();
  const { authenticator } = Authenticator.fromConfig(
    authConfigSchema.parse({
      tokens: [
        { name: 'noc-screen', role: 'viewer', sha256: hashToken(TOKENS.viewer) },
        { name: 'ops-bot', role: 'operator', sha256: hashToken(TOKENS.operator) },
        { name: 'fatima', role: 'operator', sha256: hashToken(TOKENS.colleague) },
      ],
    }),
  );
  const killSwitch = new KillSwitch(store.audit);
  let ids = 0;
  // deliverDue is never called here: this suite checks the API, the service tests check delivery.
  rollbacks = new RollbackService({ store, config: rollbackConfig({ limits: { perHour: 100, perServicePerHour: 100, cooldownMinutes: 0 } }), killSwitch, newId: () => `rb-${++ids}` });
  freezes = new FreezeService({ store, config: freezeConfigSchema.parse({}), newId: () => `frz-${++ids}` });
  const app = express();
  app.use('/api/v1', createActionsRouter({ authenticator, rollbacks, freezes, killSwitch, audit: store.audit, onChanged: () => void approvedCallbacks++ }));
  app.use(renderErrors(createLogger('silent')));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

/** Calls the API; `token` picks a role. */
async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  return { status: response.status, body: await response.json() };
}

describe('actions routes', () => {
  it('answers the gate anonymously, with plain reasons, and validates the query', async () => {
    await freezes.considerIncident(candidate([suspect({ change: { service: 'gate-svc' } })]));
    const blocked = await call('GET', '/gate?service=gate-svc&author=ai_agent&agent=kiro');
    expect(blocked.status).toBe(200);
    expect(blocked.body.allow).toBe(false);
    expect(blocked.body.reason).toMatch(/^AI-authored changes to gate-svc are frozen since \d\d:\d\d UTC because deploy chg-123 by kiro/);
    expect((await call('GET', '/gate?service=gate-svc&author=human')).body.allow).toBe(true);
    expect((await call('GET', '/gate?service=gate-svc')).body.error.code).toBe('CW_BAD_REQUEST');
    expect((await call('GET', '/gate?service=gate-svc&author=robot')).status).toBe(400);
  });

  it('lists rollbacks and lets an operator approve, exactly once', async () => {
    const rollback = await rollbacks.evaluate(candidate([suspect({ changeId: 'chg-route-1', change: { service: 'route-a' } })]));
    const listed = await call('GET', '/rollbacks?status=pending');
    expect(listed.body.rollbacks.map((item: { id: string }) => item.id)).toContain(rollback!.id);
    expect((await call('GET', '/rollbacks?status=bogus')).status).toBe(400);

    expect((await call('POST', `/rollbacks/${rollback!.id}/approve`)).status).toBe(401);
    const viewer = await call('POST', `/rollbacks/${rollback!.id}/approve`, { token: TOKENS.viewer });
    expect(viewer).toMatchObject({ status: 403, body: { error: { code: 'CW_AUTH_FORBIDDEN' } } });
    const approved = await call('POST', `/rollbacks/${rollback!.id}/approve`, { token: TOKENS.operator, body: { comment: 'looks right' } });
    expect(approved).toMatchObject({ status: 200, body: { rollback: { status: 'approved', decidedBy: 'ops-bot' } } });
    expect(approvedCallbacks).toBe(1);
    // A retry of the same decision by the same token (a CD integration whose request timed out) gets the same answer.
    const again = await call('POST', `/rollbacks/${rollback!.id}/approve`, { token: TOKENS.operator });
    expect(again).toEqual({ status: 200, body: approved.body });
    expect(approvedCallbacks).toBe(2);
    const decidedAt = approved.body.rollback.updatedAt;
    const colleague = await call('POST', `/rollbacks/${rollback!.id}/approve`, { token: TOKENS.colleague });
    expect(colleague).toEqual({
      status: 409,
      body: {
        error: {
          code: 'CW_ROLLBACK_NOT_PENDING',
          message: `rollback ${rollback!.id} is no longer pending: ops-bot approved it at ${decidedAt}`,
          details: { decidedBy: 'ops-bot', decidedAt, decision: 'approved', status: 'approved' },
        },
      },
    });
    // Denying what you approved is not a retry: it is refused, naming you.
    const ownDeny = await call('POST', `/rollbacks/${rollback!.id}/deny`, { token: TOKENS.operator, body: { reason: 'changed my mind' } });
    expect(ownDeny).toMatchObject({ status: 409, body: { error: { code: 'CW_ROLLBACK_NOT_PENDING', message: `rollback ${rollback!.id} is no longer pending: you approved it at ${decidedAt}` } } });
    expect((await call('POST', '/rollbacks/rb-unknown/approve', { token: TOKENS.operator })).status).toBe(404);
    expect((await call('GET', `/audit?action=rollback.approve&target=rollback:${rollback!.id}`, { token: TOKENS.viewer })).body.entries).toHaveLength(1);
  });

  it('requires a reason to deny', async () => {
    const rollback = await rollbacks.evaluate(candidate([suspect({ changeId: 'chg-route-2', change: { service: 'route-b' } })], { incidentId: 'inc-b' }));
    expect((await call('POST', `/rollbacks/${rollback!.id}/deny`, { token: TOKENS.operator, body: {} })).status).toBe(400);
    const denied = await call('POST', `/rollbacks/${rollback!.id}/deny`, { token: TOKENS.operator, body: { reason: 'planned load test' } });
    expect(denied.body.rollback).toMatchObject({ status: 'denied', reason: 'denied by ops-bot: planned load test' });
    expect(await call('POST', `/rollbacks/${rollback!.id}/deny`, { token: TOKENS.operator, body: { reason: 'planned load test' } })).toEqual(denied);
    const colleague = await call('POST', `/rollbacks/${rollback!.id}/approve`, { token: TOKENS.colleague });
    expect(colleague.status).toBe(409);
    expect(colleague.body.error.details).toEqual({ decidedBy: 'ops-bot', decidedAt: denied.body.rollback.updatedAt, decision: 'denied', status: 'denied' });
  });

  it('flips the kill switch for operators only, with a reason, and blocks approvals while on', async () => {
    expect((await call('GET', '/killswitch')).body).toEqual({ engaged: false });
    expect((await call('POST', '/killswitch', { token: TOKENS.viewer, body: { engaged: true, reason: 'x' } })).status).toBe(403);
    expect((await call('POST', '/killswitch', { token: TOKENS.operator, body: { engaged: true } })).status).toBe(400);
    const on = await call('POST', '/killswitch', { token: TOKENS.operator, body: { engaged: true, reason: 'rollout storm' } });
    expect(on.body).toMatchObject({ engaged: true, by: 'ops-bot', reason: 'rollout storm' });
    const rollback = await rollbacks.evaluate(candidate([suspect({ changeId: 'chg-route-3', change: { service: 'route-c' } })], { incidentId: 'inc-c' }));
    expect(rollback?.status).toBe('suppressed');
    await call('POST', '/killswitch', { token: TOKENS.operator, body: { engaged: false, reason: 'storm over' } });
    expect((await call('GET', '/killswitch')).body.engaged).toBe(false);
  });

  it('lifts a freeze for operators, with a reason', async () => {
    const freeze = await freezes.considerIncident(candidate([suspect({ change: { service: 'lift-svc' } })]));
    expect((await call('GET', '/freezes')).body.freezes.map((item: { id: string }) => item.id)).toContain(freeze!.id);
    expect((await call('POST', `/freezes/${freeze!.id}/lift`, { token: TOKENS.viewer, body: { reason: 'x' } })).status).toBe(403);
    expect((await call('POST', `/freezes/${freeze!.id}/lift`, { token: TOKENS.operator, body: {} })).status).toBe(400);
    const lifted = await call('POST', `/freezes/${freeze!.id}/lift`, { token: TOKENS.operator, body: { reason: 'fixed' } });
    expect(lifted.body.freeze).toMatchObject({ active: false, liftedBy: 'ops-bot' });
    expect(await call('POST', `/freezes/${freeze!.id}/lift`, { token: TOKENS.operator, body: { reason: 'fixed' } })).toEqual(lifted);
    const colleague = await call('POST', `/freezes/${freeze!.id}/lift`, { token: TOKENS.colleague, body: { reason: 'also fixed' } });
    expect(colleague).toEqual({
      status: 409,
      body: {
        error: {
          code: 'CW_FREEZE_NOT_ACTIVE',
          message: `freeze ${freeze!.id} is already lifted: ops-bot lifted it at ${lifted.body.freeze.liftedAt}`,
          details: { decidedBy: 'ops-bot', decidedAt: lifted.body.freeze.liftedAt, decision: 'lifted', reason: 'fixed' },
        },
      },
    });
  });

  it('serves the audit log to viewers with filters, even when reads are anonymous', async () => {
    expect((await call('GET', '/audit')).status).toBe(401);
    const all = await call('GET', '/audit', { token: TOKENS.viewer });
    expect(all.body.entries.length).toBeGreaterThan(3);
    const killSwitch = await call('GET', '/audit?action=killswitch.&actor=ops-bot', { token: TOKENS.viewer });
    expect(killSwitch.body.entries.map((entry: { action: string }) => entry.action)).toEqual(['killswitch.release', 'killswitch.engage']);
    const page = await call('GET', `/audit?limit=1&beforeId=${all.body.entries[0].id}`, { token: TOKENS.viewer });
    expect(page.body.entries).toEqual([all.body.entries[1]]);
    expect((await call('GET', '/audit?since=yesterday', { token: TOKENS.viewer })).status).toBe(400);
    // Tokens never appear in the record, only the token's name.
    expect(JSON.stringify(all.body)).not.toContain(TOKENS.operator);
  });

  it('answers malformed JSON with the same registry error as every route', async () => {
    const response = await fetch(`${base}/killswitch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe('CW_EVENT_INVALID_JSON');
  });
});
