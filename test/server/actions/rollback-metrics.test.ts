/** Rollback decisions are counted by outcome in `changewatch_rollback_decisions_total`: the policy's, people's and expiries. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KillSwitch } from '../../../server/actions/kill-switch.ts';
import { RollbackService } from '../../../server/actions/rollback-service.ts';
import { ServiceMetrics, type RollbackDecisionOutcome } from '../../../server/metrics.ts';
import { Store } from '../../../server/store/store.ts';
import { Scrape } from '../../support/prometheus.ts';
import { candidate, rollbackConfig, suspect } from './fixtures.ts';

let store: Store;
beforeAll(async () => {
  store = await Store.open();
});
afterAll(async () => {
  await store.close();
});

describe('rollback decision metrics', () => {
  it('counts each recorded decision once, by outcome', async () => {
    let now = Date.parse('2026-11-23T14:05:00Z');
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    let ids = 0;
    const rollbacks = new RollbackService({ store, config: rollbackConfig(), killSwitch: new KillSwitch(store.audit), now: () => now, newId: () => `rb-m${++ids}`, metrics });
    const decisions = async () => {
      const scraped = new Scrape((await metrics.render()).body);
      const outcomes: RollbackDecisionOutcome[] = ['proposed', 'executed', 'dry-run', 'suppressed', 'approved', 'denied', 'expired'];
      return Object.fromEntries(outcomes.map((outcome) => [outcome, scraped.value('changewatch_rollback_decisions_total', { outcome })]));
    };
    /** A candidate about its own change on its own service, two hours after the previous one (outside every limit). */
    const fresh = (n: number, confidence = 0.91) => {
      now += 2 * 3_600_000;
      return candidate([suspect({ changeId: `chg-m${n}`, confidence, change: { service: `svc-m${n}` } })], { service: `svc-m${n}`, incidentId: `inc-m${n}` });
    };

    const first = fresh(1);
    const proposed = await rollbacks.evaluate(first);
    expect(proposed?.status).toBe('pending');
    // The same decision again returns the standing record: nothing new is counted.
    expect((await rollbacks.evaluate(first))?.id).toBe(proposed?.id);
    await rollbacks.approvals.approve(proposed!.id, 'alice');

    const second = await rollbacks.evaluate(fresh(2));
    await rollbacks.approvals.deny(second!.id, 'bob', 'not this one');
    await rollbacks.evaluate(fresh(3));
    now += 16 * 60_000;
    expect(await rollbacks.approvals.expireDue()).toBe(1);
    expect((await rollbacks.evaluate(fresh(4, 0.1)))?.status).toBe('suppressed');

    expect(await decisions()).toEqual({ proposed: 3, executed: 0, 'dry-run': 0, suppressed: 1, approved: 1, denied: 1, expired: 1 });
  });
});
