/**
 * Statements that overlap on one PostgreSQL connection: `pg` queues a `client.query()` issued while
 * the client is still busy, warns "Calling client.query() when the client is already executing a
 * query is deprecated" (process.emitWarning, through util.deprecate: once per process), and pg 9
 * refuses it. The store serializes the statements of a transaction on the connection it holds, so
 * `Promise.all`'d queries inside one transaction (as the rollback guardrails run them) and many
 * concurrent transactions never overlap on a client, and the results stay right.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KillSwitch } from '../../../server/actions/kill-switch.ts';
import { RollbackService } from '../../../server/actions/rollback-service.ts';
import { isChangewatchError } from '../../../server/errors.ts';
import type { Repositories, Store } from '../../../server/store/store.ts';
import { candidate, rollbackConfig, suspect } from '../actions/fixtures.ts';
import { STORE_BACKENDS, storeForSuite } from './backends.ts';
import { makeAlert, makeIncident } from './fixtures.ts';

/** The text of pg's deprecation warning for overlapping queries on one client. */
const OVERLAP_WARNING = 'already executing a query';

/**
 * Counts every `client.query()` issued while an earlier one on the same client has not settled,
 * however deep the overlap: pg itself warns only from the third overlapping query, and only once
 * per process, so the warning alone would miss a regression after the first.
 */
function watchOverlaps(): { overlaps: () => number; restore: () => void } {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  const inFlight = new WeakMap<object, number>();
  let overlaps = 0;
  prototype.query = function watchedQuery(this: object, ...args: unknown[]): unknown {
    const busy = inFlight.get(this) ?? 0;
    if (busy > 0) overlaps += 1;
    inFlight.set(this, busy + 1);
    const settle = (): void => void inFlight.set(this, (inFlight.get(this) ?? 1) - 1);
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...results: unknown[]) => void;
      args[last] = (...results: unknown[]) => {
        settle();
        callback(...results);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result instanceof Promise) result.then(settle, settle);
    else settle();
    return result;
  };
  return { overlaps: () => overlaps, restore: () => void (prototype.query = original) };
}

describe.each(STORE_BACKENDS)('concurrent statements on $name', (backend) => {
  let store: Store;
  storeForSuite(backend, (opened) => (store = opened));
  let warnings: Error[];
  let watcher: ReturnType<typeof watchOverlaps>;
  const onWarning = (warning: Error): void => void warnings.push(warning);

  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
    watcher = watchOverlaps();
  });
  afterEach(async () => {
    watcher.restore();
    // process.emitWarning emits on the next tick: let it arrive before looking.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.filter((warning) => warning.message.includes(OVERLAP_WARNING)).map((warning) => warning.message)).toEqual([]);
    expect(watcher.overlaps()).toBe(0);
  });

  it("answers Promise.all'd queries inside one transaction, each with its own rows", async () => {
    for (let i = 0; i < 6; i++) await store.alerts.upsert(makeAlert({ id: `pa-${i}`, service: i % 2 ? 'payments' : 'search' }));
    const [payments, search, both, missing, count] = await store.transaction((tx) =>
      Promise.all([
        tx.alerts.list({ service: 'payments' }),
        tx.alerts.list({ service: 'search' }),
        tx.alerts.getMany(['pa-0', 'pa-1']),
        tx.alerts.get('pa-missing'),
        tx.actions.count({ kind: 'rollback' }),
      ]),
    );
    expect(payments.map((a) => a.id).sort()).toEqual(['pa-1', 'pa-3', 'pa-5']);
    expect(search.map((a) => a.id).sort()).toEqual(['pa-0', 'pa-2', 'pa-4']);
    expect(both.map((a) => a.id)).toEqual(['pa-0', 'pa-1']);
    expect(missing).toBeUndefined();
    expect(count).toBe(0);
  });

  it("commits many concurrent transactions, each writing and reading with Promise.all'd statements", async () => {
    const writeAndRead = (tx: Repositories, i: number) =>
      Promise.all([
        tx.incidents.upsert(makeIncident({ id: `ci-${i}`, groupKey: `g-ci-${i}`, alertIds: [`ca-${i}`] })),
        tx.alerts.upsert(makeAlert({ id: `ca-${i}`, service: `svc-ci-${i}` })),
        tx.audit.append({ actor: `actor-${i}`, action: 'test.concurrent', target: `incident:ci-${i}`, reason: 'concurrency', evidence: { i } }),
      ]).then(async () => Promise.all([tx.incidents.get(`ci-${i}`), tx.alerts.get(`ca-${i}`)]));
    // More transactions than the pool has connections, so some wait for one.
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => store.transaction((tx) => writeAndRead(tx, i))));
    results.forEach(([incident, alert], i) => {
      expect(incident?.id).toBe(`ci-${i}`);
      expect(alert?.service).toBe(`svc-ci-${i}`);
    });
    expect((await store.audit.list({ action: 'test.concurrent' })).map((entry) => entry.actor).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `actor-${i}`).sort());
  });

  it("rolls back when one of the Promise.all'd statements fails, and the connection is clean afterwards", async () => {
    const failed = store.transaction(async (tx) => {
      await tx.alerts.upsert(makeAlert({ id: 'rb-kept-out', service: 'svc-rollback' }));
      await Promise.all([tx.alerts.list({ service: 'svc-rollback' }), tx.actions.count({ kind: 'rollback' }), Promise.reject(new Error('boom')), tx.incidents.get('nope')]);
    });
    await expect(failed).rejects.toThrow('boom');
    expect(await store.alerts.get('rb-kept-out')).toBeUndefined();
    // Every connection the pool hands out next is usable, outside any leftover transaction.
    const again = await Promise.all(Array.from({ length: 8 }, (_, i) => store.transaction((tx) => tx.alerts.upsert(makeAlert({ id: `rb-after-${i}` })))));
    expect(again).toHaveLength(8);
    expect((await store.alerts.getMany(Array.from({ length: 8 }, (_, i) => `rb-after-${i}`))).length).toBe(8);
  });

  it('refuses a statement issued on a transaction after it ended, instead of running it on a connection another caller may hold', async () => {
    let leaked: Repositories | undefined;
    await store.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.alerts.get('anything')).rejects.toSatisfy((error: unknown) => isChangewatchError(error, 'CW_STORE_QUERY'));
  });

  it('decides concurrent rollbacks (guardrail counts read with Promise.all in the decision transaction) without overlapping statements', async () => {
    const config = rollbackConfig({ limits: { perHour: 100, perServicePerHour: 1, cooldownMinutes: 0 } });
    const rollbacks = new RollbackService({ store, config, killSwitch: new KillSwitch(store.audit) });
    const decisions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => rollbacks.evaluate(candidate([suspect({ changeId: `chg-cq-${i}`, change: { service: 'svc-cq' } })], { alertId: `alt-cq-${i}`, incidentId: `inc-cq-${i}` }))),
    );
    expect(decisions.filter((decision) => decision?.status === 'pending')).toHaveLength(1);
    expect(decisions.filter((decision) => decision?.status === 'suppressed')).toHaveLength(5);
  });
});
