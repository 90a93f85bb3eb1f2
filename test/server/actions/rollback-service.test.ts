import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../../server/alerts/notifiers/standard-webhooks.ts';
import { KillSwitch } from '../../../server/actions/kill-switch.ts';
import { ROLLBACK_SOURCE_NAME } from '../../../server/actions/rollback-delivery.ts';
import { rollbackConfigSchema, type RollbackConfig } from '../../../server/actions/rollback-policy.ts';
import { RollbackService } from '../../../server/actions/rollback-service.ts';
import type { RollbackSender, RollbackWebhookBody } from '../../../server/actions/rollback-webhook.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../../server/alerts/delivery/worker.ts';
import { isChangewatchError, type ErrorCode } from '../../../server/errors.ts';
import { createLogger } from '../../../server/log.ts';
import { Store } from '../../../server/store/store.ts';
import { candidate, rollbackConfig, suspect, TEST_SECRET } from './fixtures.ts';
import { startReceiver, type Receiver } from './receiver.ts';

// One store for the whole file (opening PGlite is the slow part). Tests stay independent because
// each one runs a day after the previous one on the service clock (outside every rate-limit window
// and cooldown), uses its own change ids, finds audit entries by its own rollback ids, and leaves
// the kill switch off.
let store: Store;
let now = Date.parse('2026-11-23T14:05:00Z');
let ids = 0;
let test = 0;

beforeAll(async () => {
  store = await Store.open();
});
afterAll(async () => {
  await store.close();
});
beforeEach(() => {
  now += 86_400_000;
  test += 1;
  ids = 0;
});

/** The fixture suspect with a change id unique to this test. */
function own(overrides: Parameters<typeof suspect>[0] = {}): ReturnType<typeof suspect> {
  return suspect({ ...overrides, changeId: `t${test}-${overrides.changeId ?? 'chg-123'}` });
}

/** This test's default change id. */
function chg(): string {
  return `t${test}-chg-123`;
}

/** The id of this test's `n`th rollback. */
function rb(n: number): string {
  return `rb-${test}-${n}`;
}

/** Audit entries about one rollback with `action`. */
function auditOf(id: string | undefined, action: string) {
  return store.audit.list({ target: `rollback:${id}`, action });
}

/** Verifies a received request against the service clock (the sender's clock in these tests). */
function verify(secret: string, request: { headers: Record<string, unknown>; body: string }): void {
  verifyWebhook(secret, request.headers as Record<string, string>, request.body, { nowSeconds: Math.floor(now / 1000) });
}

/** A service over the test store with a hand-driven clock. */
function service(config: RollbackConfig, send?: RollbackSender): RollbackService {
  return new RollbackService({
    store,
    config,
    killSwitch: new KillSwitch(store.audit),
    now: () => now,
    newId: () => rb(++ids),
    ...(send ? { send } : {}),
  });
}

/**
 * The delivery worker sending `rollbacks`' approved rollbacks (and no notifications) on the test
 * clock; tests call `processDue()` instead of starting it.
 */
function worker(rollbacks: RollbackService, options: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
  return new DeliveryWorker({
    store,
    notifiers: new Map(),
    sources: [rollbacks.delivery],
    logger: createLogger('silent'),
    now: () => now,
    random: () => 0.5,
    // Room for what earlier tests left approved in the shared store besides this test's rollbacks.
    concurrencyPerEndpoint: 20,
    ...options,
  });
}

/** Asserts that `promise` rejects with a ChangewatchError of `code`. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toSatisfy((error) => isChangewatchError(error, code));
}

describe('RollbackService decisions', () => {
  it('records a proposal with an expiry, an audit entry and the evidence snapshot', async () => {
    const rollback = await service(rollbackConfig()).evaluate(candidate([own()]));
    expect(rollback).toMatchObject({ id: rb(1), status: 'pending', service: 'checkout', changeId: chg(), incidentId: 'inc-9', requestedBy: 'policy' });
    expect(rollback?.expiresAt).toBe(new Date(now + 15 * 60_000).toISOString());
    const [entry] = await store.audit.list({ target: `rollback:${rb(1)}` });
    expect(entry).toMatchObject({ actor: 'policy', action: 'rollback.propose' });
    expect(entry?.evidence).toMatchObject({ changeId: chg(), fromVersion: 'v2', toVersion: 'v1', evidenceKinds: ['version_split', 'timing'] });
    expect((entry?.evidence as { evidence: string[] }).evidence).toContain('only pods on v2 are failing');
  });

  it('records each suppression with its reasons, once per distinct set of reasons', async () => {
    const rollbacks = service(rollbackConfig());
    const timingOnly = candidate([own({ evidenceKinds: ['timing'] })]);
    const first = await rollbacks.evaluate(timingOnly);
    expect(first).toMatchObject({ status: 'suppressed', reason: `the only evidence against ${chg()} is timing, which is never enough to act` });
    // The same alert updates again with the same evidence: no second record.
    expect((await rollbacks.evaluate(timingOnly))?.id).toBe(first?.id);
    expect(await auditOf(first?.id, 'rollback.suppress')).toHaveLength(1);
    // Re-ranking moves the confidence under the same guardrails: not news, no second record.
    const lowConfidence = (confidence: number) => candidate([own({ evidenceKinds: ['timing'], confidence })]);
    const low = await rollbacks.evaluate(lowConfidence(0.12));
    expect(low?.id).not.toBe(first?.id); // a new guardrail (confidence) joined the reasons
    expect((await rollbacks.evaluate(lowConfidence(0.06)))?.id).toBe(low?.id);
    // Stronger evidence arrives: the change is now proposed.
    expect(await rollbacks.evaluate(candidate([own()]))).toMatchObject({ status: 'pending' });
  });

  it('decides once per change: further alerts about the same change return the existing rollback', async () => {
    const rollbacks = service(rollbackConfig());
    const first = await rollbacks.evaluate(candidate([own()]));
    const again = await rollbacks.evaluate(candidate([own()], { alertId: 'alt-2', incidentId: 'inc-10' }));
    expect(again?.id).toBe(first?.id);
    expect(await store.actions.count({ kind: 'rollback', changeId: chg() })).toBe(1);
  });

  it('enforces the per-service limit and cooldown from stored rollbacks', async () => {
    const rollbacks = service(rollbackConfig({ limits: { perHour: 10, perServicePerHour: 1, cooldownMinutes: 90 } }));
    await rollbacks.evaluate(candidate([own()]));
    now += 61 * 60_000; // past the hourly window, still inside the cooldown
    const next = await rollbacks.evaluate(candidate([own({ changeId: 'chg-124' })], { incidentId: 'inc-11' }));
    expect(next).toMatchObject({ status: 'suppressed', reason: 'checkout was rolled back 61 min ago; cooldown is 90 min' });
    // Another service is not affected.
    const other = await rollbacks.evaluate(candidate([own({ changeId: 'chg-200', change: { service: 'cart' } })], { incidentId: 'inc-12' }));
    expect(other?.status).toBe('pending');
  });

  it('enforces the fleet-wide hourly limit across services', async () => {
    const rollbacks = service(rollbackConfig({ limits: { perHour: 2, perServicePerHour: 5, cooldownMinutes: 0 } }));
    for (const name of ['a', 'b']) {
      await rollbacks.evaluate(candidate([own({ changeId: `chg-${name}`, change: { service: name } })], { incidentId: `inc-${name}` }));
    }
    const third = await rollbacks.evaluate(candidate([own({ changeId: 'chg-c', change: { service: 'c' } })], { incidentId: 'inc-c' }));
    expect(third?.reason).toBe('fleet-wide limit reached: 2 rollbacks in the last hour (rollback.limits.perHour 2)');
  });

  it('records dry-run decisions without ever sending', async () => {
    const sent: RollbackWebhookBody[] = [];
    const rollbacks = service(rollbackConfig({ mode: 'dry-run' }), async (_target, body) => {
      sent.push(body);
      return { ok: true, status: 200 };
    });
    expect(await rollbacks.evaluate(candidate([own()]))).toMatchObject({ status: 'dry_run' });
    expect(await worker(rollbacks).processDue()).toEqual({ delivered: 0, retried: 0, dead: 0, released: 0, cancelled: 0 });
    expect(sent).toEqual([]);
    expect(await auditOf(rb(1), 'rollback.dry_run')).toHaveLength(1);
  });

  it('does nothing at all in mode off', async () => {
    expect(await service(rollbackConfig({ mode: 'off' })).evaluate(candidate([own()]))).toBeUndefined();
    expect(await store.actions.count({ changeId: chg() })).toBe(0);
  });
});

describe('RollbackService approvals', () => {
  it('lets exactly one of two concurrent approvals win', async () => {
    const rollbacks = service(rollbackConfig());
    await rollbacks.evaluate(candidate([own()]));
    const results = await Promise.allSettled([rollbacks.approvals.approve(rb(1), 'alice'), rollbacks.approvals.approve(rb(1), 'bob')]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((result) => result.status === 'rejected');
    expect(isChangewatchError(loser?.reason, 'CW_ROLLBACK_NOT_PENDING')).toBe(true);
    const winner = results.find((result) => result.status === 'fulfilled')!.value;
    // The loser's 409 names the winner, what they decided and when.
    expect((loser?.reason as { details?: unknown }).details).toEqual({ decidedBy: winner.decidedBy, decidedAt: winner.updatedAt, decision: 'approved', status: 'approved' });
    expect(await auditOf(rb(1), 'rollback.approve')).toHaveLength(1);
  });

  it('answers a double-click (the same person approving twice at once) with the one approval, audited once', async () => {
    const rollbacks = service(rollbackConfig());
    await rollbacks.evaluate(candidate([own()]));
    const [first, second] = await Promise.all([rollbacks.approvals.approve(rb(1), 'alice'), rollbacks.approvals.approve(rb(1), 'alice')]);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ status: 'approved', decidedBy: 'alice' });
    expect(await auditOf(rb(1), 'rollback.approve')).toHaveLength(1);
  });

  it('proposes without a webhook but refuses the approval, saying to roll back by hand', async () => {
    const rollbacks = service(rollbackConfigSchema.parse({}));
    expect(await rollbacks.evaluate(candidate([own()]))).toMatchObject({ status: 'pending' });
    await rejectsWith(rollbacks.approvals.approve(rb(1), 'alice'), 'CW_ROLLBACK_NO_WEBHOOK');
    expect((await store.actions.get(rb(1)))?.status).toBe('pending');
    expect((await rollbacks.approvals.deny(rb(1), 'alice', 'rolled back by hand in Argo')).status).toBe('denied');
  });

  it('cannot approve once the window has passed, and records the expiry', async () => {
    const rollbacks = service(rollbackConfig({ approvalTtlMinutes: 10 }));
    await rollbacks.evaluate(candidate([own()]));
    now += 10 * 60_000;
    await rejectsWith(rollbacks.approvals.approve(rb(1), 'alice'), 'CW_ROLLBACK_EXPIRED');
    expect((await store.actions.get(rb(1)))?.status).toBe('expired');
    await rejectsWith(rollbacks.approvals.approve(rb(1), 'alice'), 'CW_ROLLBACK_EXPIRED');
    expect(await auditOf(rb(1), 'rollback.expire')).toHaveLength(1);
  });

  it('expires due approvals on the timer and leaves fresh ones pending', async () => {
    const rollbacks = service(rollbackConfig({ approvalTtlMinutes: 15, limits: { perServicePerHour: 5, cooldownMinutes: 0 } }));
    await rollbacks.approvals.expireDue(); // sweep what earlier tests left pending in the shared store
    await rollbacks.evaluate(candidate([own()]));
    now += 10 * 60_000;
    await rollbacks.evaluate(candidate([own({ changeId: 'chg-124' })], { incidentId: 'inc-10' }));
    now += 5 * 60_000;
    expect(await rollbacks.approvals.expireDue()).toBe(1);
    expect((await store.actions.get(rb(1)))?.status).toBe('expired');
    expect((await store.actions.get(rb(2)))?.status).toBe('pending');
  });

  it('denies with a reason, and a denied change is not proposed again', async () => {
    const rollbacks = service(rollbackConfig());
    await rollbacks.evaluate(candidate([own()]));
    expect(await rollbacks.approvals.deny(rb(1), 'alice', 'false positive: load test')).toMatchObject({ status: 'denied', decidedBy: 'alice' });
    await rejectsWith(rollbacks.approvals.approve(rb(1), 'bob'), 'CW_ROLLBACK_NOT_PENDING');
    expect((await rollbacks.evaluate(candidate([own()])))?.id).toBe(rb(1));
    const [entry] = await auditOf(rb(1), 'rollback.deny');
    expect(entry).toMatchObject({ actor: 'alice', reason: 'denied by alice: false positive: load test' });
  });

  it('refuses approvals while the kill switch is on', async () => {
    const rollbacks = service(rollbackConfig());
    await rollbacks.evaluate(candidate([own()]));
    const killSwitch = new KillSwitch(store.audit);
    await killSwitch.set(true, 'carol', 'freeze all automation');
    await rejectsWith(rollbacks.approvals.approve(rb(1), 'alice'), 'CW_KILL_SWITCH_ENGAGED');
    expect((await store.actions.get(rb(1)))?.status).toBe('pending');
    await killSwitch.set(false, 'carol', 'done');
    expect((await rollbacks.approvals.approve(rb(1), 'alice')).status).toBe('approved');
  });

  it('answers CW_NOT_FOUND for an unknown rollback', async () => {
    await rejectsWith(service(rollbackConfig()).approvals.approve('rb-nope', 'alice'), 'CW_NOT_FOUND');
  });
});

describe('RollbackService delivery to the CD system, through the delivery worker', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('sends an approved rollback signed per Standard Webhooks with every field the CD system needs', async () => {
    const rollbacks = service(rollbackConfig({}, receiver.url));
    await rollbacks.evaluate(candidate([own()]));
    await rollbacks.approvals.approve(rb(1), 'alice', 'confirmed in grafana');
    expect(await worker(rollbacks).processDue()).toMatchObject({ delivered: 1 });

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(() => verify(TEST_SECRET, request!)).not.toThrow();
    expect(() => verify(`whsec_${Buffer.from('another-key').toString('base64')}`, request!)).toThrow();
    expect(request!.headers['webhook-id']).toBe(rb(1));
    const body = JSON.parse(request!.body) as RollbackWebhookBody;
    expect(body).toMatchObject({
      type: 'rollback.requested',
      rollbackId: rb(1),
      changeId: chg(),
      service: 'checkout',
      environment: 'prod',
      fromVersion: 'v2',
      toVersion: 'v1',
      incidentId: 'inc-9',
      alertId: 'alt-1',
      evidence: ['error rate rose 4 min after the deploy', 'only pods on v2 are failing'],
      evidenceKinds: ['version_split', 'timing'],
      confidence: 0.91,
      approvedBy: 'alice',
    });
    expect(body.reason).toMatch(new RegExp(`^the deploy ${chg()} \\(v2\\) by AI agent kiro likely caused the anomaly on checkout .*; approved by alice: confirmed in grafana$`));
    expect((await store.actions.get(rb(1)))?.status).toBe('executed');
    expect(await auditOf(rb(1), 'rollback.executed')).toHaveLength(1);
  });

  it('sends automatic decisions with approvedBy "policy"', async () => {
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url));
    expect(await rollbacks.evaluate(candidate([own()]))).toMatchObject({ status: 'approved', decidedBy: 'policy' });
    await worker(rollbacks).processDue();
    const body = JSON.parse(receiver.requests[0]!.body) as RollbackWebhookBody;
    expect(body.approvedBy).toBe('policy');
    expect(body.reason).toMatch(/; approved by policy \(automatic mode\)$/);
  });

  it('retries 5xx with backoff no sooner than Retry-After, then delivers the same webhook-id', async () => {
    receiver.script.push({ status: 503, headers: { 'retry-after': '120' } }, { status: 500 });
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url));
    const delivery = worker(rollbacks);
    await rollbacks.evaluate(candidate([own()]));
    expect(await delivery.processDue()).toMatchObject({ retried: 1 });
    expect(await delivery.processDue()).toMatchObject({ retried: 0, delivered: 0 }); // not due yet
    now += 120_000;
    expect(await delivery.processDue()).toMatchObject({ retried: 1 });
    now += 300_000;
    expect(await delivery.processDue()).toMatchObject({ delivered: 1 });
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([rb(1), rb(1), rb(1)]);
    expect((await store.actions.get(rb(1)))?.details).toMatchObject({ attempts: 3 });
  });

  it('keeps retrying while the CD system is down and delivers once it is back', async () => {
    const url = receiver.url;
    await receiver.close();
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, url));
    await rollbacks.evaluate(candidate([own()]));
    expect(await worker(rollbacks).processDue()).toMatchObject({ retried: 1 });
    const details = (await store.actions.get(rb(1)))?.details as { lastError: string };
    expect(details.lastError).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(details.lastError).not.toContain('/rollback');
    // A restarted service (new instances, same store) picks the approved rollback up.
    receiver = await startReceiver();
    const later = () => now + 600_000;
    const restarted = new RollbackService({
      store,
      config: rollbackConfig({ mode: 'automatic' }, receiver.url),
      killSwitch: new KillSwitch(store.audit),
      now: later,
    });
    expect(await worker(restarted, { now: later }).processDue()).toMatchObject({ delivered: 1 });
  });

  it('marks a rollback failed on a non-retryable answer', async () => {
    receiver.script.push({ status: 400 });
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url));
    await rollbacks.evaluate(candidate([own()]));
    expect(await worker(rollbacks).processDue()).toMatchObject({ dead: 1 });
    expect((await store.actions.get(rb(1)))?.status).toBe('failed');
    expect(await auditOf(rb(1), 'rollback.failed')).toHaveLength(1);
  });

  it('marks a rollback failed after maxAttempts retryable failures', async () => {
    receiver.script.push({ status: 503 }, { status: 503 });
    const rollbacks = new RollbackService({ store, config: rollbackConfig({ mode: 'automatic' }, receiver.url), killSwitch: new KillSwitch(store.audit), now: () => now, newId: () => rb(++ids), maxAttempts: 2 });
    const delivery = worker(rollbacks);
    await rollbacks.evaluate(candidate([own()]));
    expect(await delivery.processDue()).toMatchObject({ retried: 1 });
    now += 5_000;
    expect(await delivery.processDue()).toMatchObject({ dead: 1 });
    expect(await store.actions.get(rb(1))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/did not accept it after 2 attempt\(s\): HTTP 503/) });
    expect(await auditOf(rb(1), 'rollback.failed')).toHaveLength(1);
  });

  it('never sends a rollback late: past the maximum delivery age it fails instead', async () => {
    receiver.script.push({ status: 500 });
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url));
    const delivery = worker(rollbacks);
    await rollbacks.evaluate(candidate([own()]));
    await delivery.processDue();
    now += 31 * 60_000;
    expect(await delivery.processDue()).toMatchObject({ dead: 1 });
    expect(receiver.requests).toHaveLength(1);
    expect(await store.actions.get(rb(1))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^not delivered within 30 min of approval \(last error: HTTP 500/) });
  });

  it('cancels an approved but unsent rollback when the kill switch goes on, and does not re-propose it', async () => {
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url));
    const delivery = worker(rollbacks);
    await rollbacks.evaluate(candidate([own()]));
    const killSwitch = new KillSwitch(store.audit);
    await killSwitch.set(true, 'carol', 'bad rollout storm');
    expect(await delivery.processDue()).toMatchObject({ cancelled: 1 });
    await killSwitch.set(false, 'carol', 'storm over');
    expect((await rollbacks.evaluate(candidate([own()])))?.id).toBe(rb(1));
    expect(await delivery.processDue()).toMatchObject({ delivered: 0 });
    expect(receiver.requests).toHaveLength(0);
    expect(await store.actions.get(rb(1))).toMatchObject({ status: 'suppressed' });
    expect(await auditOf(rb(1), 'rollback.cancelled')).toMatchObject([{ actor: 'killswitch' }]);
  });

  it('shares the worker with notifications: its backoff retries a failing CD webhook, and its circuit breaker opens for it', async () => {
    receiver.script.push({ status: 503 }, { status: 503 }, { status: 503 });
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url));
    const delivery = worker(rollbacks, { circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 }, backoff: { baseMs: 1_000, maxMs: 1_000 } });
    await rollbacks.evaluate(candidate([own()]));
    await rollbacks.evaluate(candidate([own({ changeId: 'chg-200', change: { service: 'cart' } })], { incidentId: 'inc-12' }));

    // Both fail: each is rescheduled by the worker's backoff (random 0.5 × 1 s), and the circuit opens.
    expect(await delivery.processDue()).toMatchObject({ retried: 2 });
    expect(await store.actions.get(rb(1))).toMatchObject({ status: 'approved', details: { attempts: 1, lastError: expect.stringMatching(/^HTTP 503/) } });
    expect(delivery.status().circuits[ROLLBACK_SOURCE_NAME]).toMatchObject({ state: 'open', consecutiveFailures: 2 });
    now += 30_000; // both are due again, but the circuit is open: nothing is sent
    expect(await delivery.processDue()).toMatchObject({ retried: 0, delivered: 0 });
    expect(receiver.requests).toHaveLength(2);
    now += 30_000; // half-open: exactly one probe, which fails and re-opens the circuit
    expect(await delivery.processDue()).toMatchObject({ retried: 1 });
    expect(receiver.requests).toHaveLength(3);
    expect(delivery.status().circuits[ROLLBACK_SOURCE_NAME]?.state).toBe('open');
    now += 60_000; // the next probe succeeds and closes it; the other rollback follows
    expect(await delivery.processDue()).toMatchObject({ delivered: 1 });
    expect(delivery.status().circuits[ROLLBACK_SOURCE_NAME]?.state).toBe('closed');
    expect(await delivery.processDue()).toMatchObject({ delivered: 1 });
    expect((await rollbacks.list({ status: ['executed'] })).map((rollback) => rollback.id)).toEqual(expect.arrayContaining([rb(1), rb(2)]));
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([rb(1), rb(2), rb(1), rb(1), rb(2)]);
  });

  it('gives a rollback back uncounted when the worker stops mid-attempt, and another worker sends it', async () => {
    let calls = 0;
    const hanging: RollbackSender = (_target, _body, signal) => {
      calls += 1;
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve({ ok: false, retryable: true, aborted: true, reason: 'aborted' })));
    };
    const rollbacks = service(rollbackConfig({ mode: 'automatic' }, receiver.url), hanging);
    const stopping = worker(rollbacks);
    await rollbacks.evaluate(candidate([own()]));
    const attempt = stopping.processDue();
    await expect.poll(() => calls).toBe(1);
    await stopping.stop(0);
    expect(await attempt).toMatchObject({ released: 1 });
    expect((await rollbacks.getRollback(rb(1))).details.attempts).toBe(0);
    expect(await worker(service(rollbackConfig({ mode: 'automatic' }, receiver.url))).processDue()).toMatchObject({ delivered: 1 });
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([rb(1)]);
  });
});

describe('KillSwitch', () => {
  it('is off by default, and each flip is persisted in the audit log with who and why', async () => {
    const killSwitch = new KillSwitch(store.audit);
    expect((await killSwitch.state()).engaged).toBe(false);
    await killSwitch.set(true, 'alice', 'incident review');
    expect(await new KillSwitch(store.audit).state()).toMatchObject({ engaged: true, by: 'alice', reason: 'incident review' });
    await killSwitch.set(false, 'bob', 'done');
    expect(await killSwitch.state()).toMatchObject({ engaged: false, by: 'bob' });
    expect((await store.audit.list({ action: 'killswitch.', limit: 2 })).map((entry) => [entry.actor, entry.action])).toEqual([
      ['bob', 'killswitch.release'],
      ['alice', 'killswitch.engage'],
    ]);
  });
});
