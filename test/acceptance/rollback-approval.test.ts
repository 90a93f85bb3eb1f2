/**
 * End to end on the real mock broker: an AI agent's deploy breaks only the instances running its
 * version → alert with version-split evidence → rollback proposed, AI changes to the service frozen
 * → an operator approves through the API → the CD system (a real local receiver) gets a signed
 * rollback request; the gate blocks AI changes until a human lifts the freeze. In automatic mode the
 * same evidence sends the rollback without a human, unless the kill switch is on.
 */
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { verifyWebhook } from '../../server/alerts/notifiers/standard-webhooks.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contract/socket.ts';
import type { AutomationSnapshot, Freeze, RollbackView } from '../../contract/automation.ts';
import type { RunningService } from '../../server/service.ts';
import * as scenario from '../support/guarded-rollback.ts';
import { eventually, type uniqueTopics } from '../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
const OPERATOR_TOKEN = 'cw_rollback-operator-token';
const VIEWER_TOKEN = 'cw_rollback-viewer-token';
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// The scenario's pieces live in test/support/guarded-rollback.ts (the dashboard's end-to-end browser
// test plays the same incident); these wrappers only register their teardown.

/** A local HTTP server standing in for the CD system's rollback endpoint. */
async function startCdReceiver(): Promise<scenario.CdReceiver> {
  const receiver = await scenario.startCdReceiver();
  cleanup.push(() => receiver.close());
  return receiver;
}

/** Starts changewatch with `rollback.mode: mode` sending to `cdUrl`. */
async function startWithRollback(mode: 'require-approval' | 'automatic', cdUrl: string): Promise<{ service: RunningService; topics: ReturnType<typeof uniqueTopics>; secret: string }> {
  const started = await scenario.startWithRollback({
    brokers,
    mode,
    cdUrl,
    tokens: [
      { name: 'ops-alice', role: 'operator', token: OPERATOR_TOKEN },
      { name: 'noc-screen', role: 'viewer', token: VIEWER_TOKEN },
    ],
  });
  cleanup.push(() => started.service.stop());
  return started;
}

/** Produces the deploy (first, so it is known when the anomaly opens) and then the telemetry. */
async function playIncident(service: RunningService, topics: ReturnType<typeof uniqueTopics>): Promise<void> {
  cleanup.push(await scenario.playIncident(brokers, service, topics));
}

async function api<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

const asOperator = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };

describe('Guarded rollback, end to end (real broker, real CD receiver)', () => {
  it('proposes a rollback of the AI deploy, freezes AI changes, sends the signed rollback once an operator approves, and opens the gate when a human lifts the freeze', { timeout: 60_000 }, async () => {
    const cd = await startCdReceiver();
    const { service, topics, secret } = await startWithRollback('require-approval', cd.url);
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(service.url, { transports: ['websocket'] });
    cleanup.push(() => socket.close());
    const snapshots: AutomationSnapshot[] = [];
    socket.on('automation', (snapshot) => snapshots.push(snapshot));
    await eventually(() => snapshots.length > 0, 10_000, 'the automation snapshot on connect');
    expect(snapshots[0]).toMatchObject({ mode: 'require-approval', canExecute: true, killSwitch: { engaged: false }, rollbacks: [], freezes: [] });

    await playIncident(service, topics);

    // Proposed, with the version split among its evidence, and pushed to the dashboard.
    let pending: RollbackView | undefined;
    await eventually(
      async () => {
        pending = (await api<{ rollbacks: RollbackView[] }>(`${service.url}/api/v1/rollbacks?status=pending`)).body.rollbacks[0];
        return pending !== undefined;
      },
      20_000,
      'a rollback proposal',
    );
    expect(pending).toMatchObject({ changeId: 'chg-ai-1', service: 'checkout', fromVersion: 'v2.4.0', toVersion: 'v2.3.9', requestedBy: 'policy' });
    expect(pending!.evidenceKinds).toContain('version_split');
    expect(pending!.incidentId).toMatch(/\S/);
    await eventually(() => snapshots.some((s) => s.rollbacks.some((r) => r.id === pending!.id && r.status === 'pending')), 10_000, 'the proposal on the socket');
    expect(cd.requests).toHaveLength(0); // nothing is sent before a human approves

    // AI changes to checkout are frozen; humans still ship.
    const frozen = await api<{ allow: boolean; reason: string; freezeIds: string[] }>(`${service.url}/api/v1/gate?service=checkout&author=ai_agent&agent=kiro`);
    expect(frozen.body).toMatchObject({ allow: false });
    expect(frozen.body.reason).toMatch(/chg-ai-1/);
    expect((await api<{ allow: boolean }>(`${service.url}/api/v1/gate?service=checkout&author=human`)).body.allow).toBe(true);

    // Approval needs an operator.
    const approveUrl = `${service.url}/api/v1/rollbacks/${pending!.id}/approve`;
    expect((await api(approveUrl, { method: 'POST' })).status).toBe(401);
    expect((await api(approveUrl, { method: 'POST', headers: { authorization: `Bearer ${VIEWER_TOKEN}` } })).status).toBe(403);
    const approved = await api<{ rollback: RollbackView }>(approveUrl, { method: 'POST', headers: asOperator, body: JSON.stringify({ comment: 'v2.4.0 pods are the ones failing' }) });
    expect(approved).toMatchObject({ status: 200, body: { rollback: { status: 'approved', decidedBy: 'ops-alice' } } });

    // The CD system gets one signed request naming the change, the versions and who approved.
    await eventually(() => cd.requests.length >= 1, 10_000, 'the rollback request at the CD system');
    const request = cd.requests[0]!;
    verifyWebhook(secret, request.headers as Record<string, string>, request.body);
    expect(request.headers['webhook-id']).toBe(pending!.id);
    expect(JSON.parse(request.body)).toMatchObject({
      type: 'rollback.requested',
      rollbackId: pending!.id,
      changeId: 'chg-ai-1',
      service: 'checkout',
      fromVersion: 'v2.4.0',
      toVersion: 'v2.3.9',
      incidentId: pending!.incidentId,
      approvedBy: 'ops-alice',
      evidence: expect.arrayContaining([expect.stringMatching(/v2\.4\.0/)]),
    });
    await eventually(
      async () => (await api<{ rollback: RollbackView }>(`${service.url}/api/v1/rollbacks/${pending!.id}`)).body.rollback.status === 'executed',
      10_000,
      'the rollback to be marked executed',
    );
    await eventually(() => snapshots.at(-1)!.rollbacks.some((r) => r.id === pending!.id && r.status === 'executed'), 10_000, 'the executed rollback on the socket');

    // A human lifts the freeze; the gate opens, and the audit log has the whole story.
    const freezeId = frozen.body.freezeIds[0]!;
    const lifted = await api<{ freeze: Freeze }>(`${service.url}/api/v1/freezes/${freezeId}/lift`, { method: 'POST', headers: asOperator, body: JSON.stringify({ reason: 'rolled back; agent fixed' }) });
    expect(lifted.body.freeze).toMatchObject({ active: false, liftedBy: 'ops-alice' });
    expect((await api<{ allow: boolean }>(`${service.url}/api/v1/gate?service=checkout&author=ai_agent&agent=kiro`)).body.allow).toBe(true);
    const audit = await api<{ entries: Array<{ action: string; actor: string }> }>(`${service.url}/api/v1/audit?limit=50`, { headers: asOperator });
    const actions = audit.body.entries.map((e) => `${e.action}:${e.actor}`);
    expect(actions).toEqual(expect.arrayContaining(['rollback.propose:policy', 'rollback.approve:ops-alice', 'rollback.executed:delivery', 'freeze.create:policy', 'freeze.lift:ops-alice']));
  });

  it('in automatic mode sends the rollback without a human, and sends nothing while the kill switch is on', { timeout: 90_000 }, async () => {
    const cd = await startCdReceiver();
    const held = await startWithRollback('automatic', cd.url);
    const engaged = await api(`${held.service.url}/api/v1/killswitch`, { method: 'POST', headers: asOperator, body: JSON.stringify({ engaged: true, reason: 'bad week; humans only' }) });
    expect(engaged.status).toBe(200);
    await playIncident(held.service, held.topics);
    let suppressed: RollbackView | undefined;
    await eventually(
      async () => {
        suppressed = (await api<{ rollbacks: RollbackView[] }>(`${held.service.url}/api/v1/rollbacks?status=suppressed`)).body.rollbacks.find((r) => /kill switch/.test(r.reason));
        return suppressed !== undefined;
      },
      20_000,
      'a decision suppressed by the kill switch',
    );
    expect(suppressed!.reason).toMatch(/by ops-alice: bad week; humans only/);
    expect(cd.requests).toHaveLength(0);

    const free = await startWithRollback('automatic', cd.url);
    await playIncident(free.service, free.topics);
    await eventually(() => cd.requests.length >= 1, 20_000, 'the automatic rollback request');
    expect(JSON.parse(cd.requests[0]!.body)).toMatchObject({ changeId: 'chg-ai-1', approvedBy: 'policy', evidenceKinds: expect.arrayContaining(['version_split']) });
    verifyWebhook(free.secret, cd.requests[0]!.headers as Record<string, string>, cd.requests[0]!.body);
  });
});
