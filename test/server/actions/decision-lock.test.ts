/**
 * Two changewatch processes on one PostgreSQL deciding at once: the guardrails' counts and the
 * inserts are serialized by the decisions lock, so a limit is never passed by one; and delivering
 * at once: each approved rollback is leased by one worker, so it is sent once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreezeService, freezeConfigSchema } from '../../../server/actions/freeze.ts';
import { KillSwitch } from '../../../server/actions/kill-switch.ts';
import { RollbackService } from '../../../server/actions/rollback-service.ts';
import { DeliveryWorker } from '../../../server/alerts/delivery/worker.ts';
import { createLogger } from '../../../server/log.ts';
import type { Store } from '../../../server/store/store.ts';
import { PERSISTENT_STORE_BACKENDS } from '../store/backends.ts';
import { candidate, rollbackConfig, suspect } from './fixtures.ts';
import { startReceiver } from './receiver.ts';

const postgres = PERSISTENT_STORE_BACKENDS.find((backend) => backend.name === 'postgres')!;

describe('decisions across processes on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof postgres.create>>;
  let stores: Store[];
  beforeAll(async () => {
    database = await postgres.create();
    stores = [await database.open(), await database.open()];
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await database.cleanup();
  });

  it('lets only one of many concurrent rollbacks of one service through perServicePerHour: 1', async () => {
    const config = rollbackConfig({ limits: { perHour: 100, perServicePerHour: 1, cooldownMinutes: 0 } });
    const services = stores.map((store) => new RollbackService({ store, config, killSwitch: new KillSwitch(store.audit) }));
    const decisions = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        services[i % 2]!.evaluate(candidate([suspect({ changeId: `chg-race-${i}` })], { alertId: `alt-race-${i}`, incidentId: `inc-race-${i}` })),
      ),
    );
    expect(decisions.filter((decision) => decision?.status === 'pending')).toHaveLength(1);
    expect(decisions.filter((decision) => decision?.status === 'suppressed')).toHaveLength(7);
  });

  it('sends each approved rollback once when both processes deliver at once', async () => {
    const receiver = await startReceiver();
    try {
      const config = rollbackConfig({ mode: 'automatic', limits: { perHour: 100, perServicePerHour: 100, cooldownMinutes: 0 } }, receiver.url);
      const services = stores.map((store) => new RollbackService({ store, config, killSwitch: new KillSwitch(store.audit) }));
      for (let i = 0; i < 6; i++) {
        const decided = await services[i % 2]!.evaluate(candidate([suspect({ changeId: `chg-send-${i}`, change: { service: `svc-send-${i}` } })], { alertId: `alt-send-${i}`, incidentId: `inc-send-${i}` }));
        expect(decided?.status).toBe('approved');
      }
      const workers = services.map((service, i) => new DeliveryWorker({ store: stores[i]!, notifiers: new Map(), sources: [service.delivery], logger: createLogger('silent') }));
      const reports = await Promise.all(workers.map((worker) => worker.processDue()));
      expect(reports.reduce((sum, report) => sum + report.delivered, 0)).toBe(6);
      expect(receiver.requests).toHaveLength(6);
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(6);
    } finally {
      await receiver.close();
    }
  });

  it('creates one freeze when both processes see the same AI change at once', async () => {
    const freezes = stores.map((store) => new FreezeService({ store, config: freezeConfigSchema.parse({}) }));
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => freezes[i % 2]!.considerIncident(candidate([suspect({ changeId: 'chg-freeze-race' })], { alertId: `alt-f-${i}` }))),
    );
    expect(new Set(created.map((freeze) => freeze?.id)).size).toBe(1);
    expect(await stores[0]!.actions.count({ kind: 'freeze' })).toBe(1);
  });
});
