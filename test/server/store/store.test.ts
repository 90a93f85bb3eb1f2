import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../server/alerts/notifiers/types.ts';
import { isChangewatchError } from '../../../server/errors.ts';
import type { Store } from '../../../server/store/store.ts';
import { STORE_BACKENDS, storeForSuite } from './backends.ts';
import { makeAlert, makeChange, makeIncident } from './fixtures.ts';

describe.each(STORE_BACKENDS)('store on $name', (backend) => {
  let store: Store;
  storeForSuite(backend, (opened) => (store = opened));


  it('runs on the expected engine and re-applying migrations is a no-op', async () => {
    expect(store.dialect).toBe(backend.name);
    expect(await store.migrate()).toEqual([]);
  });

  describe('alerts', () => {
    it('upserts by id and keeps the emission with the latest updatedAt', async () => {
      const first = makeAlert({ id: 'a-latest', updatedAt: '2026-11-23T10:01:00.000Z', observed: 0.1 });
      const newer = makeAlert({ id: 'a-latest', updatedAt: '2026-11-23T10:02:00.000Z', observed: 0.2, status: 'acknowledged' });
      const stale = makeAlert({ id: 'a-latest', updatedAt: '2026-11-23T10:01:30.000Z', observed: 0.15 });
      expect(await store.alerts.upsert(first)).toBe(true);
      expect(await store.alerts.upsert(newer)).toBe(true);
      expect(await store.alerts.upsert(stale)).toBe(false);
      expect(await store.alerts.get('a-latest')).toEqual(newer);
      expect(await store.alerts.get('missing')).toBeUndefined();
    });

    it('lists with filters, newest first, and fetches several in the asked order', async () => {
      await store.alerts.upsert(makeAlert({ id: 'a-pay', service: 'payments', severity: 'warning', updatedAt: '2026-11-23T11:00:00.000Z' }));
      await store.alerts.upsert(makeAlert({ id: 'a-pay-2', service: 'payments', status: 'resolved', updatedAt: '2026-11-23T11:05:00.000Z' }));
      expect((await store.alerts.list({ service: 'payments' })).map((a) => a.id)).toEqual(['a-pay-2', 'a-pay']);
      expect((await store.alerts.list({ service: 'payments', status: ['firing'] })).map((a) => a.id)).toEqual(['a-pay']);
      expect((await store.alerts.list({ severity: ['warning'] })).map((a) => a.id)).toEqual(['a-pay']);
      expect((await store.alerts.list({ updatedSince: '2026-11-23T11:01:00.000Z' })).map((a) => a.id)).toEqual(['a-pay-2']);
      expect((await store.alerts.list({ limit: 1 })).length).toBe(1);
      expect((await store.alerts.getMany(['a-pay-2', 'nope', 'a-pay'])).map((a) => a.id)).toEqual(['a-pay-2', 'a-pay']);
    });
  });

  describe('incidents', () => {
    it('round-trips every field, including the optional ones', async () => {
      const incident = makeIncident({ id: 'inc-rt', groupKey: 'g-rt', alertIds: ['a1', 'a2'] });
      await store.incidents.upsert(incident);
      expect(await store.incidents.get('inc-rt')).toEqual(incident);
      const acknowledged = {
        ...incident,
        status: 'acknowledged' as const,
        acknowledgedBy: 'alice',
        acknowledgedAt: '2026-11-23T10:05:00.000Z',
        updatedAt: '2026-11-23T10:05:00.000Z',
      };
      await store.incidents.upsert(acknowledged);
      expect(await store.incidents.get('inc-rt')).toEqual(acknowledged);
      expect(await store.incidents.findOpenByGroupKey('g-rt')).toEqual(acknowledged);
    });

    it('allows one open incident per group key, and a new one once it is resolved', async () => {
      await store.incidents.upsert(makeIncident({ id: 'inc-g1', groupKey: 'g-unique' }));
      const duplicate = store.incidents.upsert(makeIncident({ id: 'inc-g2', groupKey: 'g-unique' }));
      await expect(duplicate).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_STORE_CONFLICT'));
      await store.incidents.upsert(makeIncident({ id: 'inc-g1', groupKey: 'g-unique', status: 'resolved', resolvedAt: '2026-11-23T10:30:00.000Z' }));
      await store.incidents.upsert(makeIncident({ id: 'inc-g2', groupKey: 'g-unique' }));
      expect((await store.incidents.findOpenByGroupKey('g-unique'))?.id).toBe('inc-g2');
      expect((await store.incidents.list({ status: ['resolved'] })).map((i) => i.id)).toContain('inc-g1');
    });
  });

  describe('changes', () => {
    it('upserts by id and lists the most recent first, with filters', async () => {
      await store.changes.upsert(makeChange({ id: 'c1', timestamp: 1_000 }));
      await store.changes.upsert(makeChange({ id: 'c2', timestamp: 3_000, service: 'payments' }));
      await store.changes.upsert(makeChange({ id: 'c3', timestamp: 2_000 }));
      await store.changes.upsert(makeChange({ id: 'c1', timestamp: 1_000, summary: 'redelivered' }));
      expect((await store.changes.get('c1'))?.summary).toBe('redelivered');
      expect((await store.changes.listRecent({ since: 1_000, until: 5_000 })).map((c) => c.id)).toEqual(['c2', 'c3', 'c1']);
      expect((await store.changes.listRecent({ service: 'checkout', since: 1_000, until: 5_000 })).map((c) => c.id)).toEqual(['c3', 'c1']);
      expect((await store.changes.listRecent({ since: 1_500, until: 2_500 })).map((c) => c.id)).toEqual(['c3']);
    });
  });

  describe('actions', () => {
    it('records actions and lets only one compare-and-set transition win', async () => {
      const details = { alertId: 'a-1', environment: 'prod', anomalyService: 'checkout', summary: 'deploy chg-42', evidence: [], evidenceKinds: [], reasons: [] };
      await store.actions.insert({
        id: 'rb-1',
        kind: 'rollback',
        status: 'pending',
        service: 'checkout',
        changeId: 'chg-42',
        incidentId: 'inc-1',
        requestedBy: 'policy',
        reason: 'AI-authored deploy implicated with confidence 0.86',
        details: { ...details, fromVersion: 'v2.4.0', toVersion: 'v2.3.9' },
        createdAt: '2026-11-23T10:02:00.000Z',
        updatedAt: '2026-11-23T10:02:00.000Z',
        expiresAt: '2026-11-23T10:32:00.000Z',
      });
      const approve = { from: ['pending'] as const, to: 'approved' as const, reason: 'looks right', at: '2026-11-23T10:03:00.000Z' };
      const [first, second] = await Promise.all([
        store.actions.transition('rb-1', 'rollback', { ...approve, decidedBy: 'alice', details: { approvedAt: '2026-11-23T10:03:00.000Z' } }),
        store.actions.transition('rb-1', 'rollback', { ...approve, decidedBy: 'bob', details: { approvedAt: '2026-11-23T10:03:01.000Z' } }),
      ]);
      const winners = [first, second].filter((result) => result !== undefined);
      expect(winners).toHaveLength(1);
      const stored = await store.actions.get('rb-1');
      expect(stored?.status).toBe('approved');
      expect(stored?.decidedBy).toBe(winners[0]!.decidedBy);
      expect(stored?.details).toEqual({ ...details, fromVersion: 'v2.4.0', toVersion: 'v2.3.9', approvedAt: winners[0]!.details.approvedAt });
      expect(stored?.expiresAt).toBe('2026-11-23T10:32:00.000Z');
      expect(await store.actions.transition('missing', 'rollback', approve)).toBeUndefined();
    });

    it('counts and lists by service and time for rate limits', async () => {
      for (const [id, service, createdAt] of [
        ['rb-c1', 'search', '2026-11-23T09:00:00.000Z'],
        ['rb-c2', 'search', '2026-11-23T10:10:00.000Z'],
        ['rb-c3', 'cart', '2026-11-23T10:20:00.000Z'],
      ] as const) {
        await store.actions.insert({
          id,
          kind: 'rollback',
          status: 'executed',
          service,
          requestedBy: 'policy',
          reason: 'test',
          details: { alertId: 'a-1', environment: 'prod', anomalyService: service, summary: 'test', evidence: [], evidenceKinds: [], reasons: [] },
          createdAt,
          updatedAt: createdAt,
        });
      }
      const lastHour = { kind: 'rollback' as const, status: ['executed' as const], createdSince: '2026-11-23T09:30:00.000Z' };
      expect(await store.actions.count(lastHour)).toBe(2);
      expect(await store.actions.count({ ...lastHour, service: 'search' })).toBe(1);
      expect((await store.actions.list({ service: 'search' })).map((a) => a.id)).toEqual(['rb-c2', 'rb-c1']);
    });
  });

  describe('audit log', () => {
    it('appends entries, lists them newest first with filters, and refuses updates and deletes', async () => {
      const first = await store.audit.append({
        actor: 'alice',
        action: 'incident.acknowledge',
        target: 'incident:inc-9',
        reason: 'looking into it',
        at: '2026-11-23T10:00:00.000Z',
      });
      await store.audit.append({
        actor: 'policy',
        action: 'rollback.suppressed',
        target: 'change:chg-9',
        reason: 'only timing evidence',
        evidence: { suspects: [{ changeId: 'chg-9', confidence: 0.9 }] },
        at: '2026-11-23T10:01:00.000Z',
      });
      await store.audit.append({ actor: 'policy', action: 'rollback.expired', target: 'change:chg-9' });
      expect(first).toMatchObject({ actor: 'alice', action: 'incident.acknowledge', at: '2026-11-23T10:00:00.000Z' });
      expect(first).not.toHaveProperty('evidence');

      const rollbacks = await store.audit.list({ action: 'rollback.' });
      expect(rollbacks.map((e) => e.action)).toEqual(['rollback.expired', 'rollback.suppressed']);
      expect(rollbacks[1]!.evidence).toEqual({ suspects: [{ changeId: 'chg-9', confidence: 0.9 }] });
      expect((await store.audit.list({ actor: 'alice' })).map((e) => e.id)).toEqual([first.id]);
      expect((await store.audit.list({ since: '2026-11-23T10:00:30.000Z', until: '2026-11-23T10:02:00.000Z' })).map((e) => e.action)).toEqual([
        'rollback.suppressed',
      ]);
      const page = await store.audit.list({ target: 'change:chg-9', limit: 1 });
      expect((await store.audit.list({ target: 'change:chg-9', beforeId: page[0]!.id })).map((e) => e.action)).toEqual(['rollback.suppressed']);

      // The store has no update API; even raw SQL is refused by the database.
      const raw = (store as unknown as { db: { query(sql: string): Promise<unknown> } }).db;
      await expect(raw.query("UPDATE audit_log SET reason = 'rewritten'")).rejects.toThrow(/append-only/);
      await expect(raw.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
      await expect(raw.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      expect((await store.audit.list()).length).toBe(3);
    });

    it('lists every matching entry page by page, newest first', async () => {
      for (let i = 0; i < 5; i++) await store.audit.append({ actor: 'pager', action: 'page.test', target: `page:${i}` });
      await store.audit.append({ actor: 'pager', action: 'other.test' });
      const all = await store.audit.listAll({ action: 'page.' }, 2);
      expect(all.map((entry) => entry.target)).toEqual(['page:4', 'page:3', 'page:2', 'page:1', 'page:0']);
      expect(await store.audit.listAll({ action: 'page.' }, 5)).toEqual(all);
      expect(await store.audit.listAll({ action: 'page.' }, 5_000)).toEqual(all);
    });
  });

  describe('checkpoints', () => {
    it('saves state and offsets together and loads the latest', async () => {
      expect(await store.checkpoints.load('changewatch')).toBeUndefined();
      await store.checkpoints.save('changewatch', { detectors: { n: 1 } }, [
        { topic: 'telemetry', partition: 0, offset: '10' },
        { topic: 'telemetry', partition: 1, offset: '7' },
      ], '2026-11-23T10:00:00.000Z');
      await store.checkpoints.save('changewatch', { detectors: { n: 2 } }, [{ topic: 'telemetry', partition: 0, offset: '12' }], '2026-11-23T10:00:05.000Z');
      expect(await store.checkpoints.load('changewatch')).toEqual({
        state: { detectors: { n: 2 } },
        offsets: [
          { topic: 'telemetry', partition: 0, offset: '12' },
          { topic: 'telemetry', partition: 1, offset: '7' },
        ],
        savedAt: '2026-11-23T10:00:05.000Z',
      });
    });

    it('rolls back state and offsets together when the transaction fails', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.checkpoints.save('rollback-group', { n: 1 }, [{ topic: 't', partition: 0, offset: '1' }]);
          await tx.incidents.upsert(makeIncident({ id: 'inc-tx', groupKey: 'g-tx' }));
          throw new Error('crash before commit');
        }),
      ).rejects.toThrow('crash before commit');
      expect(await store.checkpoints.load('rollback-group')).toBeUndefined();
      expect(await store.incidents.get('inc-tx')).toBeUndefined();
    });
  });

  describe('outbox', () => {
    const notification = (id: string, incidentId: string, action: Notification['action'] = 'trigger'): Notification => ({
      id,
      action,
      incident: makeIncident({ id: incidentId }),
      alerts: [makeAlert()],
      dashboardUrl: `http://localhost:8080/incidents/${incidentId}`,
    });

    it('leases only the oldest pending row per incident, and leases expire', async () => {
      await store.transaction(async (tx) => {
        await tx.incidents.upsert(makeIncident({ id: 'inc-o1', groupKey: 'g-o1' }));
        await tx.outbox.enqueue([
          { endpoint: 'pd', notification: notification('n1', 'inc-o1'), createdAt: 1_000 },
          { endpoint: 'pd', notification: notification('n2', 'inc-o1', 'resolve'), createdAt: 1_001 },
          { endpoint: 'pd', notification: notification('n3', 'inc-o2'), createdAt: 1_002 },
          { endpoint: 'slack', notification: notification('n4', 'inc-o1'), createdAt: 1_003 },
        ]);
      });
      const claim = { endpoint: 'pd', now: 2_000, limit: 10, owner: 'w1', leaseMs: 500 };
      expect((await store.outbox.claimDue(claim)).map((e) => e.id)).toEqual(['n1', 'n3']);
      expect(await store.outbox.claimDue({ ...claim, owner: 'w2' })).toEqual([]);
      expect((await store.outbox.claimDue({ ...claim, now: 2_500, owner: 'w2' })).map((e) => e.id)).toEqual(['n1', 'n3']);

      expect(await store.outbox.markDelivered('n1', 2_600)).toBe(true);
      expect(await store.outbox.markDelivered('n1', 2_700)).toBe(false);
      expect(await store.outbox.markDelivered('n3', 2_600)).toBe(true);
      expect((await store.outbox.claimDue({ ...claim, now: 2_600 })).map((e) => e.id)).toEqual(['n2']);
      expect(await store.outbox.scheduleRetry('n2', { error: 'HTTP 503', nextAttemptAt: 5_000 })).toBe(true);
      expect(await store.outbox.claimDue({ ...claim, now: 4_999 })).toEqual([]);
      const [retried] = await store.outbox.claimDue({ ...claim, now: 5_000 });
      expect(retried).toMatchObject({ id: 'n2', attempts: 1, lastError: 'HTTP 503', action: 'resolve', incidentId: 'inc-o1' });
      expect(retried!.notification).toEqual(notification('n2', 'inc-o1', 'resolve'));
      expect(await store.outbox.markDead('n2', { error: 'HTTP 400' })).toBe(true);

      const delivered = await store.outbox.get('n1');
      expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: 2_600 });
      expect(await store.outbox.countByStatus()).toEqual([
        { endpoint: 'pd', status: 'dead', count: 1 },
        { endpoint: 'pd', status: 'delivered', count: 2 },
        { endpoint: 'slack', status: 'pending', count: 1 },
      ]);
      expect((await store.outbox.list({ endpoint: 'slack' })).map((e) => e.id)).toEqual(['n4']);

      // Retention: finished rows older than the cut-off go once their incident is resolved; pending ones always stay.
      expect(await store.outbox.deleteFinishedBefore(1_002)).toBe(0); // inc-o1 is still open
      await store.incidents.upsert(makeIncident({ id: 'inc-o1', groupKey: 'g-o1', status: 'resolved', resolvedAt: '2026-11-23T10:30:00.000Z' }));
      expect(await store.outbox.deleteFinishedBefore(1_002)).toBe(2); // n1 delivered, n2 dead
      expect(await store.outbox.deleteFinishedBefore(10_000)).toBe(1); // n3 delivered
      expect((await store.outbox.list()).map((e) => e.id)).toEqual(['n4']);
    });

    it('never hands the same row to two concurrent claimers', async () => {
      await store.outbox.enqueue(
        Array.from({ length: 20 }, (_, i) => ({ endpoint: 'race', notification: notification(`r${i}`, `inc-r${i}`), createdAt: 1 })),
      );
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd'].map((owner) => store.outbox.claimDue({ endpoint: 'race', now: 10, limit: 20, owner, leaseMs: 60_000 })),
      );
      const ids = claims.flat().map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(20);
    });
  });

  it('fails with CW_STORE_CLOSED after close', async () => {
    const database = await backend.create();
    const closed = await database.open();
    await closed.close();
    await expect(closed.alerts.get('x')).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_STORE_CLOSED'));
    await database.cleanup();
  });
});
