import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueNotifications } from '../../../../server/alerts/delivery/enqueue.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../../../server/alerts/delivery/worker.ts';
import type { Notifier } from '../../../../server/alerts/notifiers/types.ts';
import { Store } from '../../../../server/store/store.ts';
import { makeAlert, makeIncident } from '../../store/fixtures.ts';
import { captureLogger, fail503, hangUntilAborted, notificationFor, ScriptedNotifier } from './support.ts';

describe('delivery worker (hand-driven clock)', () => {
  let store: Store;
  let clock: number;

  beforeAll(async () => {
    store = await Store.open();
  });
  afterAll(async () => {
    await store.close();
  });

  const worker = (notifiers: Notifier[], options: Partial<DeliveryWorkerOptions> = {}) =>
    new DeliveryWorker({
      store,
      notifiers: new Map(notifiers.map((n) => [n.name, n])),
      logger: captureLogger(),
      now: () => clock,
      random: () => 0.999,
      backoff: { baseMs: 1_000, maxMs: 60_000 },
      circuitBreaker: { failureThreshold: 100, cooldownMs: 10_000 },
      ...options,
    });

  const enqueue = (endpoint: string, ...notifications: ReturnType<typeof notificationFor>[]) =>
    store.outbox.enqueue(notifications.map((notification) => ({ endpoint, notification, createdAt: clock })));

  it('retries with exponential full-jitter backoff and never before Retry-After', async () => {
    clock = 1_000_000;
    const notifier = new ScriptedNotifier('backoff', [fail503(), fail503(), fail503(30_000)]);
    const delivery = worker([notifier]);
    await enqueue('backoff', notificationFor('b1', 'inc-b'));

    expect(await delivery.processDue()).toEqual({ delivered: 0, retried: 1, dead: 0, released: 0, cancelled: 0 });
    expect((await store.outbox.get('b1'))?.nextAttemptAt).toBe(clock + 999); // random 0.999 × 1 s
    clock += 998;
    expect((await delivery.processDue()).retried).toBe(0);
    clock += 1;
    expect((await delivery.processDue()).retried).toBe(1);
    expect((await store.outbox.get('b1'))?.nextAttemptAt).toBe(clock + 1_998); // 0.999 × 2 s
    clock += 1_998;
    expect((await delivery.processDue()).retried).toBe(1);
    // Jitter would allow ~4 s, but the receiver asked for 30 s.
    expect((await store.outbox.get('b1'))?.nextAttemptAt).toBe(clock + 30_000);
    clock += 29_999;
    expect(await delivery.processDue()).toEqual({ delivered: 0, retried: 0, dead: 0, released: 0, cancelled: 0 });
    clock += 1;
    expect((await delivery.processDue()).delivered).toBe(1);
    expect(await store.outbox.get('b1')).toMatchObject({ status: 'delivered', attempts: 4, deliveredAt: clock });
    expect(notifier.calls.map((n) => n.id)).toEqual(['b1', 'b1', 'b1', 'b1']);
  });

  it("delivers an incident's notifications in order: a later one waits for the earlier one", async () => {
    clock = 2_000_000;
    const notifier = new ScriptedNotifier('order', { o1: [fail503(), fail503()] });
    const delivery = worker([notifier]);
    await enqueue('order', notificationFor('o1', 'inc-o'), notificationFor('o2', 'inc-o', 'acknowledge'), notificationFor('o3', 'inc-o', 'resolve'));
    await enqueue('order', notificationFor('p1', 'inc-p'));

    await delivery.processDue(); // o1 fails, p1 (another incident) goes through
    expect(notifier.calls.map((n) => n.id)).toEqual(['o1', 'p1']);
    clock += 5_000;
    await delivery.processDue(); // o1 fails again; o2 and o3 must not overtake it
    expect(notifier.calls.map((n) => n.id)).toEqual(['o1', 'p1', 'o1']);
    for (let i = 0; i < 4; i++) {
      clock += 5_000;
      await delivery.processDue();
    }
    expect(notifier.calls.map((n) => n.id)).toEqual(['o1', 'p1', 'o1', 'o1', 'o2', 'o3']);
    expect((await store.outbox.list({ endpoint: 'order' })).map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });

  it('marks a non-retryable failure dead at once, audits it, and lets the incident proceed', async () => {
    clock = 3_000_000;
    const logger = captureLogger();
    const notifier = new ScriptedNotifier('final', [{ ok: false, retryable: false, reason: 'HTTP 400 from http://pd: invalid routing key' }]);
    const delivery = worker([notifier], { logger });
    await enqueue('final', notificationFor('f1', 'inc-f'), notificationFor('f2', 'inc-f', 'resolve'));

    expect(await delivery.processDue()).toEqual({ delivered: 0, retried: 0, dead: 1, released: 0, cancelled: 0 });
    expect(await store.outbox.get('f1')).toMatchObject({ status: 'dead', attempts: 1, lastError: 'HTTP 400 from http://pd: invalid routing key (not retryable)' });
    const [audit] = await store.audit.list({ target: 'notification:f1' });
    expect(audit).toMatchObject({ actor: 'delivery', action: 'notification.dead' });
    expect(audit!.reason).toContain('invalid routing key');
    expect(audit!.evidence).toMatchObject({ code: 'CW_NOTIFY_DEAD', endpoint: 'final', incidentId: 'inc-f', attempts: 1 });
    expect(logger.lines.find((line) => line.level === 'error')?.fields).toMatchObject({ code: 'CW_NOTIFY_DEAD', notificationId: 'f1' });
    expect((await delivery.processDue()).delivered).toBe(1);
    expect(notifier.calls.map((n) => n.id)).toEqual(['f1', 'f2']);
  });

  it('gives up after maxAttempts, and after maxAgeMs', async () => {
    clock = 4_000_000;
    const notifier = new ScriptedNotifier('giveup', [], fail503());
    const delivery = worker([notifier], { maxAttempts: 3, maxAgeMs: 60_000 });
    await enqueue('giveup', notificationFor('g1', 'inc-g1'));
    for (let i = 0; i < 3; i++) {
      await delivery.processDue();
      clock += 10_000;
    }
    expect(await store.outbox.get('g1')).toMatchObject({ status: 'dead', attempts: 3 });
    expect((await store.outbox.get('g1'))?.lastError).toMatch(/gave up after 3 attempts/);

    await enqueue('giveup', notificationFor('g2', 'inc-g2'));
    await delivery.processDue();
    clock += 61_000;
    expect((await delivery.processDue()).dead).toBe(1);
    expect(await store.outbox.get('g2')).toMatchObject({ status: 'dead', attempts: 2 });
    expect(await store.audit.list({ action: 'notification.dead', target: 'notification:g2' })).toHaveLength(1);
  });

  it('opens the circuit after consecutive failures, sends one probe after the cool-down, then resumes', async () => {
    clock = 5_000_000;
    // c1 fails twice (first round, then as the first half-open probe); the others fail once.
    const notifier = new ScriptedNotifier('breaker', { c1: [fail503(), fail503()], c2: [fail503()], c3: [fail503()], c4: [fail503()] });
    const delivery = worker([notifier], { circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 }, backoff: { baseMs: 10, maxMs: 10 } });
    await enqueue('breaker', ...['c1', 'c2', 'c3', 'c4'].map((id) => notificationFor(id, `inc-${id}`)));

    await delivery.processDue(); // four incidents at once; their failures open the circuit
    expect(notifier.calls).toHaveLength(4);
    expect(delivery.status().circuits.breaker).toMatchObject({ state: 'open' });
    clock += 30_000;
    expect(await delivery.processDue()).toEqual({ delivered: 0, retried: 0, dead: 0, released: 0, cancelled: 0 });
    expect(notifier.calls).toHaveLength(4);
    clock += 30_000; // half-open: exactly one probe, which fails and re-opens
    expect((await delivery.processDue()).retried).toBe(1);
    expect(notifier.calls).toHaveLength(5);
    expect(delivery.status().circuits.breaker?.state).toBe('open');
    clock += 60_000; // the next probe succeeds and closes the circuit
    expect((await delivery.processDue()).delivered).toBe(1);
    expect(delivery.status().circuits.breaker?.state).toBe('closed');
    expect((await delivery.processDue()).delivered).toBe(3);
    expect((await store.outbox.list({ endpoint: 'breaker', status: ['delivered'] })).length).toBe(4);
  });

  it('warns at start about pending notifications for endpoints that are no longer configured', async () => {
    clock = 7_000_000;
    await enqueue('removed-endpoint', notificationFor('x1', 'inc-x'), notificationFor('x2', 'inc-x', 'resolve'));
    const logger = captureLogger();
    const delivery = worker([new ScriptedNotifier('still-here')], { logger, pollIntervalMs: 60_000 });
    delivery.start();
    await expect.poll(() => logger.lines.filter((line) => line.level === 'warn').map((line) => line.fields)).toContainEqual({ endpoint: 'removed-endpoint', pending: 2 });
    await delivery.stop(0);
    expect(await store.outbox.list({ endpoint: 'removed-endpoint', status: ['pending'] })).toHaveLength(2);
  });

  it('deletes old finished rows of resolved incidents in the background, and keeps those of open ones', async () => {
    clock = 9_000_000;
    await store.incidents.upsert(makeIncident({ id: 'inc-old-resolved', groupKey: 'g-old-resolved', status: 'resolved', resolvedAt: '2026-11-23T10:30:00.000Z' }));
    await store.incidents.upsert(makeIncident({ id: 'inc-old-open', groupKey: 'g-old-open' }));
    const notifier = new ScriptedNotifier('prune-hook');
    await enqueue('prune-hook', notificationFor('prune-1', 'inc-old-resolved'), notificationFor('prune-2', 'inc-old-open'));
    const delivery = worker([notifier], { retainFinishedMs: 1_000 });
    await delivery.processDue();
    clock += 5_000; // both rows delivered and older than the retention
    delivery.start();
    await expect.poll(async () => (await store.outbox.list({ endpoint: 'prune-hook' })).map((row) => row.id)).toEqual(['prune-2']);
    await delivery.stop(0);
  });

  it('never starts a second attempt of a row whose attempt outlived its lease', async () => {
    clock = 8_000_000;
    let answer: (outcome: { ok: true; status: number }) => void = () => {};
    const notifier = new ScriptedNotifier('outlived', [() => new Promise((resolve) => (answer = resolve))]);
    const delivery = worker([notifier], { leaseMs: 1_000 });
    await enqueue('outlived', notificationFor('l1', 'inc-l'));
    const first = delivery.processDue();
    await expect.poll(() => notifier.calls.length).toBe(1);
    clock += 2_000; // the lease has ended while the attempt still waits for an answer
    expect(await delivery.processDue()).toEqual({ delivered: 0, retried: 0, dead: 0, released: 0, cancelled: 0 });
    expect(notifier.calls).toHaveLength(1);
    answer({ ok: true, status: 200 });
    expect((await first).delivered).toBe(1);
    expect(await store.outbox.get('l1')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('enqueues atomically with the incident write', async () => {
    clock = 6_000_000;
    const incident = makeIncident({ id: 'inc-atomic', groupKey: 'g-atomic' });
    const request = { action: 'trigger' as const, incident, alerts: [makeAlert()], dashboardUrl: 'http://x/incidents/inc-atomic' };
    await expect(
      store.transaction(async (tx) => {
        await tx.incidents.upsert(incident);
        await enqueueNotifications(tx.outbox, ['atomic-a', 'atomic-b'], request, clock);
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect(await store.outbox.list({ incidentId: 'inc-atomic' })).toEqual([]);

    const sent = await store.transaction(async (tx) => {
      await tx.incidents.upsert(incident);
      return enqueueNotifications(tx.outbox, ['atomic-a', 'atomic-b'], request, clock);
    });
    expect(sent.map((n) => n.id)).toEqual([expect.stringMatching(/^ntf_/), expect.stringMatching(/^ntf_/)]);
    expect(new Set(sent.map((n) => n.id)).size).toBe(2);
    const rows = await store.outbox.list({ incidentId: 'inc-atomic' });
    expect(rows.map((r) => [r.endpoint, r.status, r.notification])).toEqual([
      ['atomic-a', 'pending', sent[0]],
      ['atomic-b', 'pending', sent[1]],
    ]);
  });

  it('keeps a hanging endpoint from holding back others; stop aborts it and releases the row uncounted', async () => {
    clock = Date.now();
    const slow = new ScriptedNotifier('slow', [hangUntilAborted]);
    const fast = new ScriptedNotifier('fast');
    const delivery = worker([slow, fast], { now: Date.now, pollIntervalMs: 20 });
    await enqueue('slow', notificationFor('s1', 'inc-s'));
    delivery.start();
    await enqueue('fast', notificationFor('q1', 'inc-q'), notificationFor('q2', 'inc-q', 'resolve'));
    delivery.wake();
    await expect.poll(async () => (await store.outbox.list({ endpoint: 'fast', status: ['delivered'] })).length, { timeout: 5_000 }).toBe(2);
    expect(slow.calls.map((n) => n.id)).toEqual(['s1']);
    expect(delivery.status().inFlight).toEqual({ slow: 1, fast: 0 });

    await delivery.stop(50);
    const released = await store.outbox.get('s1');
    expect(released).toMatchObject({ status: 'pending', attempts: 0 });
    // Released, not left leased: another worker can take it immediately.
    expect((await store.outbox.claimDue({ endpoint: 'slow', now: Date.now(), limit: 1, owner: 'next', leaseMs: 1_000 })).map((e) => e.id)).toEqual(['s1']);
  });
});
