import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Automation } from '../../../server/actions/automation.ts';
import { FreezeService, freezeConfigSchema } from '../../../server/actions/freeze.ts';
import { KillSwitch } from '../../../server/actions/kill-switch.ts';
import { RollbackService } from '../../../server/actions/rollback-service.ts';
import { DeliveryWorker } from '../../../server/alerts/delivery/worker.ts';
import type { Alert } from '../../../contract/alert.ts';
import type { AutomationSnapshot } from '../../../contract/automation.ts';
import type { Incident } from '../../../contract/incident.ts';
import { createLogger } from '../../../server/log.ts';
import { Store } from '../../../server/store/store.ts';
import { eventually } from '../../support/kafka-helpers.ts';
import { rollbackConfig, suspect } from './fixtures.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let store: Store;
let receiver: Receiver;
const workers: DeliveryWorker[] = [];
beforeAll(async () => {
  store = await Store.open();
  receiver = await startReceiver();
});
afterEach(async () => {
  // A test's worker stops with it, so no other test's rollbacks are sent (and published) by it.
  for (const worker of workers.splice(0)) await worker.stop(0);
});
afterAll(async () => {
  await receiver.close();
  await store.close();
});

/** A running delivery worker sending `rollbacks`' approved rollbacks, as the service wires it. */
function deliveryOf(rollbacks: RollbackService): DeliveryWorker {
  const worker = new DeliveryWorker({ store, notifiers: new Map(), sources: [rollbacks.delivery], logger: createLogger('silent'), pollIntervalMs: 50 });
  worker.start();
  workers.push(worker);
  return worker;
}

/** A firing alert on `service` whose top suspect is `changeId`. */
function firing(id: string, changeId: string, service: string, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    status: 'firing',
    severity: 'critical',
    service,
    environment: 'prod',
    metric: 'error_rate',
    startedAt: '2026-11-23T14:04:00.000Z',
    updatedAt: '2026-11-23T14:05:00.000Z',
    observed: 0.2,
    expected: 0.01,
    lower: 0,
    upper: 0.02,
    score: 0.99,
    detector: 'ensemble',
    explanation: 'error_rate 0.2 vs expected 0.01',
    suspects: [suspect({ changeId, change: { service } })],
    noChangeConfidence: 0.05,
    ...overrides,
  };
}

/** The incident an alert was grouped into. */
function incidentOf(alert: Alert): Incident {
  return {
    id: `inc-${alert.id}`,
    groupKey: alert.service,
    groupLabels: { service: alert.service },
    status: 'firing',
    severity: alert.severity,
    title: alert.explanation,
    service: alert.service,
    environment: alert.environment,
    alertIds: [alert.id],
    startedAt: alert.startedAt,
    updatedAt: alert.updatedAt,
  };
}

/** Automation over the shared store with `mode`; snapshots it publishes are collected. */
function automation(mode: 'require-approval' | 'automatic', published: AutomationSnapshot[]): Automation {
  const config = rollbackConfig({ mode, limits: { perHour: 100, perServicePerHour: 100, cooldownMinutes: 0 } }, receiver.url);
  const killSwitch = new KillSwitch(store.audit);
  const rollbacks = new RollbackService({ store, config, killSwitch });
  return new Automation({
    rollbacks,
    delivery: deliveryOf(rollbacks),
    freezes: new FreezeService({ store, config: freezeConfigSchema.parse({}) }),
    killSwitch,
    rollbackConfig: config,
    log: createLogger('silent'),
    onChange: (snapshot) => published.push(snapshot),
  });
}

describe('Automation', () => {
  it('proposes once per change however many updates an alert gets, freezes the AI change, and publishes only what changed', async () => {
    const published: AutomationSnapshot[] = [];
    const stage = automation('require-approval', published);
    const alert = firing('a1', 'chg-a1', 'svc-a1');
    for (let i = 0; i < 5; i++) stage.consider({ ...alert, updatedAt: `2026-11-23T14:0${5 + i}:00.000Z` }, incidentOf(alert));
    await eventually(() => published.length > 0, 10_000, 'a snapshot');
    await stage.stop();

    expect(await store.actions.count({ kind: 'rollback', changeId: 'chg-a1' })).toBe(1);
    const snapshot = published.at(-1)!;
    expect(snapshot).toMatchObject({ mode: 'require-approval', canExecute: true, killSwitch: { engaged: false } });
    expect(snapshot.rollbacks.find((r) => r.changeId === 'chg-a1')).toMatchObject({ status: 'pending', service: 'svc-a1', fromVersion: 'v2', toVersion: 'v1', incidentId: 'inc-a1' });
    expect(snapshot.freezes.find((f) => f.changeId === 'chg-a1')).toMatchObject({ active: true, service: 'svc-a1', agent: 'kiro' });
    // Nothing changed since, so nothing more is published.
    expect(published).toHaveLength(1);
  });

  it('ignores resolved alerts and alerts without suspects', async () => {
    const published: AutomationSnapshot[] = [];
    const stage = automation('require-approval', published);
    const resolved = firing('a2', 'chg-a2', 'svc-a2', { status: 'resolved' });
    const unexplained = firing('a3', 'chg-a3', 'svc-a3', { suspects: [] });
    stage.consider(resolved, incidentOf(resolved));
    stage.consider(unexplained, incidentOf(unexplained));
    await stage.stop();
    expect(await store.actions.count({ changeId: 'chg-a2' })).toBe(0);
    expect(published).toHaveLength(0);
  });

  it('lists near misses on the panel but not suppressions of suspects nobody would roll back', async () => {
    const stage = automation('require-approval', []);
    const unlikely = firing('a7', 'chg-a7', 'svc-a7', { suspects: [suspect({ changeId: 'chg-a7', confidence: 0.3, change: { service: 'svc-a7' } })] });
    const timingOnly = firing('a8', 'chg-a8', 'svc-a8', { suspects: [suspect({ changeId: 'chg-a8', evidenceKinds: ['timing'], change: { service: 'svc-a8' } })] });
    stage.consider(unlikely, incidentOf(unlikely));
    stage.consider(timingOnly, incidentOf(timingOnly));
    await stage.stop();
    expect(await store.actions.count({ kind: 'rollback', changeId: 'chg-a7', status: ['suppressed'] })).toBe(1); // still audited
    const listed = (await stage.snapshot()).rollbacks.map((r) => r.changeId);
    expect(listed).not.toContain('chg-a7');
    expect(listed).toContain('chg-a8');
  });

  it('sends an automatic rollback right away and publishes it as executed', async () => {
    const published: AutomationSnapshot[] = [];
    const stage = automation('automatic', published);
    const alert = firing('a4', 'chg-a4', 'svc-a4');
    stage.consider(alert, incidentOf(alert));
    await eventually(() => published.some((s) => s.rollbacks.some((r) => r.changeId === 'chg-a4' && r.status === 'executed')), 10_000, 'the executed rollback');
    await stage.stop();
    expect(receiver.requests.map((r) => JSON.parse(r.body).changeId)).toContain('chg-a4');
  });

  it('keeps going when a step fails: the error is logged, not thrown, and the next alert is evaluated', async () => {
    const published: AutomationSnapshot[] = [];
    const errors: unknown[] = [];
    const config = rollbackConfig({ limits: { perHour: 100, perServicePerHour: 100, cooldownMinutes: 0 } }, receiver.url);
    const killSwitch = new KillSwitch(store.audit);
    const rollbacks = new RollbackService({ store, config, killSwitch });
    let failNext = true;
    const flaky = Object.assign(Object.create(rollbacks) as RollbackService, {
      evaluate: (candidate: Parameters<RollbackService['evaluate']>[0]) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('connection reset'));
        }
        return rollbacks.evaluate(candidate);
      },
    });
    const log = Object.assign(createLogger('silent'), { error: (fields: unknown) => void errors.push(fields) });
    const stage = new Automation({ rollbacks: flaky, delivery: deliveryOf(rollbacks), freezes: new FreezeService({ store, config: freezeConfigSchema.parse({ enabled: false }) }), killSwitch, rollbackConfig: config, log, onChange: (s) => published.push(s) });
    const first = firing('a5', 'chg-a5', 'svc-a5');
    const second = firing('a6', 'chg-a6', 'svc-a6');
    stage.consider(first, incidentOf(first));
    stage.consider(second, incidentOf(second));
    await eventually(() => published.some((s) => s.rollbacks.some((r) => r.changeId === 'chg-a6')), 10_000, 'the second alert evaluated');
    await stage.stop();
    expect(errors).toHaveLength(1);
    expect(await store.actions.count({ kind: 'rollback', changeId: 'chg-a5' })).toBe(0);
  });
});
