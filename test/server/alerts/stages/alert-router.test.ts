/** The wired stages on a real store (PGlite and PostgreSQL): flapping, human actions, silences, timers, restarts. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlertRouter } from '../../../../server/alerts/alert-router.ts';
import { notifyConfigSchema } from '../../../../server/alerts/notifiers/config.ts';
import { generateWebhookSecret } from '../../../../server/alerts/notifiers/standard-webhooks.ts';
import { incidentsConfigSchema } from '../../../../server/alerts/stages/config.ts';
import { SilenceBook } from '../../../../server/alerts/stages/mute.ts';
import type { Alert } from '../../../../contract/alert.ts';
import { createLogger } from '../../../../server/log.ts';
import { AlertRepository } from '../../../../server/store/repositories/alerts.ts';
import type { Store } from '../../../../server/store/store.ts';
import { PERSISTENT_STORE_BACKENDS, STORE_BACKENDS, type StoreBackend } from '../../store/backends.ts';
import { anAlert } from './fixtures.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A router on a fresh database with a hand-driven clock; `emit` feeds it an alert and waits until it is handled. */
async function setup(backend: StoreBackend, incidents: Record<string, number> = {}) {
  const database = await backend.create();
  cleanup.push(() => database.cleanup());
  const clock = { now: Date.parse('2026-03-02T10:00:00Z') };
  // The router's ports, as the core implements them: what it acknowledged and published.
  const newPorts = () => ({ acknowledged: [] as string[], published: [] as string[], acknowledge(ids: readonly string[]) { this.acknowledged.push(...ids); }, publishIncident(incident: { id: string }) { this.published.push(incident.id); } });
  const ports = newPorts();
  const notify = notifyConfigSchema.parse([{ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: generateWebhookSecret() }]);

  /** Opens the store and starts a router on it, as the service does at start. */
  const boot = async (routerPorts = ports) => {
    const store = await database.open();
    const silences = await SilenceBook.load(store.audit, () => clock.now);
    const router = await AlertRouter.start({
      store,
      ports: routerPorts,
      incidents: incidentsConfigSchema.parse({ groupWaitMs: 0, flapWindowMs: 60_000, ...incidents }),
      notify,
      maintenance: [],
      silences,
      publicUrl: 'http://dash.test',
      log: createLogger('silent'),
      onEnqueued: () => {},
      now: () => clock.now,
      tickMs: 10,
      syncEveryMs: 30,
    });
    const stop = async () => {
      await router.stop();
      await store.close();
    };
    cleanup.push(stop);
    return { store, router, silences, stop };
  };
  let running = await boot();
  /** Hands the router one emission of `alert`, as the core does, without waiting. */
  const feed = (alert: Alert) => running.router.accept({ alerts: [alert], changes: [], incidents: [], deadLetters: [] });
  const emit = async (alert: Alert) => {
    feed(alert);
    await running.router.idle();
  };
  /** Lets a few timer ticks run at the current clock. */
  const ticks = async () => {
    await new Promise((resolve) => setTimeout(resolve, 60));
    await running.router.idle();
  };
  const actions = async () => (await running.store.outbox.list()).map((row) => row.action);
  /** Stops the router and the store and starts both again on the same data, like a process restart. */
  const restart = async () => {
    await running.stop();
    running = await boot();
  };
  /** Starts one more router on the same database with ports of its own, as a second instance would; `emit` feeds it. */
  const another = async () => {
    const instancePorts = newPorts();
    const instance = await boot(instancePorts);
    const emitThere = async (alert: Alert) => {
      instance.router.accept({ alerts: [alert], changes: [], incidents: [], deadLetters: [] });
      await instance.router.idle();
    };
    return { ...instance, ports: instancePorts, emit: emitThere };
  };
  return {
    get store(): Store {
      return running.store;
    },
    another,
    get router(): AlertRouter {
      return running.router;
    },
    get silences(): SilenceBook {
      return running.silences;
    },
    clock,
    ports,
    feed,
    emit,
    ticks,
    actions,
    restart,
  };
}

const resolvedAlert = (alert: Alert): Alert => ({ ...alert, status: 'resolved', resolvedAt: alert.updatedAt, updatedAt: new Date(Date.parse(alert.updatedAt) + 60_000).toISOString() });

describe.each(STORE_BACKENDS)('alert router on $name', { timeout: 60_000 }, (backend) => {
  it('does not page twice for a flapping series: a re-fire inside the flap window re-opens the same incident', async () => {
    const { store, clock, emit, ticks, actions } = await setup(backend);
    const first = anAlert({ id: 'alrt-1' });
    await emit(first);
    expect(await actions()).toEqual(['trigger']);

    clock.now += 10_000;
    await emit(resolvedAlert(first));
    const [incident] = await store.incidents.list();
    expect(incident!.status).toBe('resolved');
    await ticks();
    expect(await actions()).toEqual(['trigger']); // resolve held back for the flap window

    clock.now += 20_000;
    await emit(anAlert({ id: 'alrt-2', startedAt: '2026-03-02T10:03:00.000Z', updatedAt: '2026-03-02T10:03:00.000Z' }));
    expect(await store.incidents.list()).toHaveLength(1);
    expect((await store.incidents.get(incident!.id))!).toMatchObject({ status: 'firing', alertIds: ['alrt-1', 'alrt-2'] });
    await ticks();
    expect(await actions()).toEqual(['trigger']);

    clock.now += 10_000;
    await emit(resolvedAlert(anAlert({ id: 'alrt-2', startedAt: '2026-03-02T10:03:00.000Z', updatedAt: '2026-03-02T10:03:00.000Z' })));
    clock.now += 60_000;
    await ticks();
    expect(await actions()).toEqual(['trigger', 'resolve']);

    // After the window a new anomaly is a new incident and pages.
    await emit(anAlert({ id: 'alrt-3', startedAt: '2026-03-02T11:00:00.000Z', updatedAt: '2026-03-02T11:00:00.000Z' }));
    expect(await store.incidents.list()).toHaveLength(2);
    expect(await actions()).toEqual(['trigger', 'resolve', 'trigger']);
  });

  it('routes an alert storm in groups to the same incidents and pages as one emission at a time, and a bad emission costs only itself', async () => {
    // Eight services, each with three alerts that fire, update and resolve: 72 emissions.
    const storm: Alert[] = [];
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 3; j++) {
        const alert = anAlert({ id: `alrt-${i}-${j}`, service: `svc-${i}`, metric: `m${j}` });
        storm.push(alert, { ...alert, observed: 900, updatedAt: '2026-03-02T10:00:30.000Z' }, resolvedAlert(alert));
      }
    }
    const outcome = async (store: Store) =>
      (await store.incidents.list()).map((i) => ({ service: i.service, status: i.status, alertIds: [...i.alertIds].sort() })).sort((a, b) => a.service.localeCompare(b.service));
    const pages = async (store: Store) => (await store.outbox.list()).map((row) => `${row.incidentId}:${row.action}`).sort();

    const oneByOne = await setup(backend);
    for (const alert of storm) await oneByOne.emit(alert);
    const grouped = await setup(backend);
    for (const alert of storm) grouped.feed(alert);
    await grouped.router.idle();
    expect(await outcome(grouped.store)).toEqual(await outcome(oneByOne.store));
    expect(await outcome(grouped.store)).toHaveLength(8);
    expect(await pages(grouped.store)).toEqual(await pages(oneByOne.store));

    // A store error on one emission (a NOT NULL column left empty) rolls its group back; the group
    // is routed again one by one, so only the bad emission is lost.
    const broken = await setup(backend);
    const bad = { ...anAlert({ id: 'alrt-bad', service: 'svc-bad' }), startedAt: null } as unknown as Alert;
    for (const alert of [...storm.slice(0, 10), bad, ...storm.slice(10)]) broken.feed(alert);
    await broken.router.idle();
    expect(await outcome(broken.store)).toEqual(await outcome(oneByOne.store));
    expect(await pages(broken.store)).toEqual(await pages(oneByOne.store));
    expect(await broken.store.alerts.getMany(['alrt-bad'])).toEqual([]);
  });

  it('holds the first page for groupWait so related alerts join it, and records who acknowledged and resolved', async () => {
    const { store, clock, ports, router, emit, ticks, actions } = await setup(backend, { groupWaitMs: 30_000 });
    await emit(anAlert({ id: 'alrt-1' }));
    await emit(anAlert({ id: 'alrt-2', metric: 'error_rate', severity: 'critical' }));
    await ticks();
    expect(await actions()).toEqual([]);
    clock.now += 30_000;
    await ticks();
    const [row] = await store.outbox.list();
    expect(row!.notification.incident).toMatchObject({ severity: 'critical', alertIds: ['alrt-1', 'alrt-2'] });

    const [incident] = await store.incidents.list();
    const acked = await router.acknowledge(incident!.id, 'alice', 'on it');
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    expect(ports.acknowledged).toEqual(['alrt-1', 'alrt-2']);
    await expect(router.acknowledge('inc_nope', 'alice')).rejects.toMatchObject({ code: 'CW_NOT_FOUND' });
    const resolved = await router.resolve(incident!.id, 'bob', 'rolled back by hand');
    expect(resolved.status).toBe('resolved');
    // Bob resolving again is a retry, answered with the incident; anyone else is told who resolved it and when.
    expect(await router.resolve(incident!.id, 'bob')).toEqual(resolved);
    const [byBob] = await store.audit.list({ action: 'incident.resolve', target: `incident:${incident!.id}` });
    await expect(router.acknowledge(incident!.id, 'alice')).rejects.toMatchObject({
      code: 'CW_CONFLICT',
      message: `incident ${incident!.id} is already resolved: bob resolved it at ${byBob!.at}`,
      details: { decidedBy: 'bob', decidedAt: byBob!.at, decision: 'resolved' },
    });
    expect(await actions()).toEqual(['trigger', 'acknowledge', 'resolve']);
    const audit = await store.audit.list({ target: `incident:${incident!.id}` });
    expect(audit.map((e) => [e.actor, e.action, e.reason])).toEqual([
      ['bob', 'incident.resolve', 'rolled back by hand'],
      ['alice', 'incident.acknowledge', 'on it'],
    ]);
    // Alerts of a resolved incident that still fire do not re-open it or page.
    await emit(anAlert({ id: 'alrt-1', updatedAt: '2026-03-02T10:01:00.000Z' }));
    expect((await store.incidents.get(incident!.id))!.status).toBe('resolved');
    expect(await actions()).toEqual(['trigger', 'acknowledge', 'resolve']);
  });

  it('pages an incident whose whole life fell inside a backlog: a late trigger, then its resolve', async () => {
    const { store, clock, feed, router, ticks, actions } = await setup(backend, { groupWaitMs: 30_000, flapWindowMs: 0 });
    // Ten minutes of data arrive within one wall-clock millisecond, as after a broker outage.
    const onset = Date.parse('2026-03-02T10:00:00Z');
    for (let minute = 0; minute <= 10; minute++) feed(anAlert({ updatedAt: new Date(onset + minute * 60_000).toISOString() }));
    feed(resolvedAlert(anAlert({ updatedAt: new Date(onset + 10 * 60_000).toISOString() })));
    await router.idle();
    await ticks();
    expect(await actions()).toEqual(['trigger', 'resolve']);
    const [trigger] = await store.outbox.list();
    expect(trigger!.notification.incident.status).toBe('firing');
    // Live, the same incident would have paged at 30 s: the wall clock is not what held it.
    expect(clock.now).toBe(Date.parse('2026-03-02T10:00:00Z'));
  });

  it('sends a late trigger for an incident resolved before its first tick, saying it is already resolved', async () => {
    const { store, emit, ticks, actions } = await setup(backend, { groupWaitMs: 30_000, flapWindowMs: 0 });
    await emit(anAlert());
    await emit({ ...resolvedAlert(anAlert()), updatedAt: '2026-03-02T10:05:00.000Z' });
    await ticks();
    expect(await actions()).toEqual(['trigger', 'resolve']);
    const [trigger] = await store.outbox.list();
    expect(trigger!.notification.incident.status).toBe('resolved');
  });

  it('records a muted page once as suppressed, and pages when the silence ends while the incident still fires', async () => {
    const { store, clock, silences, emit, ticks, actions } = await setup(backend);
    await silences.create(store.audit, { matchers: { service: ['checkout'] }, endsAt: new Date(clock.now + 60_000).toISOString(), comment: 'game day' }, 'alice');
    await emit(anAlert());
    await ticks();
    expect(await actions()).toEqual([]);
    expect(await store.audit.list({ action: 'notification.suppressed' })).toHaveLength(1);
    clock.now += 60_000;
    await ticks();
    expect(await actions()).toEqual(['trigger']);
    // The silence is durable: a new book on the same store sees it (here: already expired, so none).
    expect((await SilenceBook.load(store.audit, () => clock.now)).list()).toEqual([]);
    expect((await SilenceBook.load(store.audit, () => clock.now - 1)).list()).toHaveLength(1);
  });
});

describe.each(PERSISTENT_STORE_BACKENDS)('alert router restarts on $name', { timeout: 60_000 }, (backend) => {
  it('reads back from the store only alerts it did not route itself (after a restart), and pages with their newest emission', async () => {
    const cw = await setup(backend);
    const reads = vi.spyOn(AlertRepository.prototype, 'getMany');
    cleanup.push(async () => reads.mockRestore());
    const first = anAlert({ id: 'alrt-1', metric: 'latency_p99' });
    const second = anAlert({ id: 'alrt-2', metric: 'error_rate' });
    for (const alert of [first, second, { ...first, observed: 900, updatedAt: '2026-03-02T10:00:30.000Z' }]) await cw.emit(alert);
    expect(reads).not.toHaveBeenCalled();

    await cw.restart();
    reads.mockClear();
    await cw.emit({ ...second, observed: 700, updatedAt: '2026-03-02T10:00:40.000Z' });
    // alrt-1 was routed before the restart: read once, then known.
    expect(reads.mock.calls.map(([ids]) => ids)).toEqual([['alrt-1']]);
    const [incident] = await cw.store.incidents.list();
    expect(incident!.alertIds).toEqual(['alrt-1', 'alrt-2']);
    await cw.emit({ ...first, observed: 950, updatedAt: '2026-03-02T10:00:50.000Z' });
    expect(reads).toHaveBeenCalledTimes(1);
    const stored = await cw.store.alerts.getMany(['alrt-1', 'alrt-2']);
    expect(stored.map((a) => a.observed)).toEqual([950, 700]);
  });

  it('does not page again after a restart for an alert still firing in an incident a person resolved', async () => {
    const cw = await setup(backend);
    const alert = anAlert();
    await cw.emit(alert);
    const [incident] = await cw.store.incidents.list();
    await cw.router.resolve(incident!.id, 'alice', 'known: load test');
    expect(await cw.actions()).toEqual(['trigger', 'resolve']);

    await cw.restart();
    cw.clock.now += 120_000;
    await cw.emit({ ...alert, updatedAt: '2026-03-02T10:02:00.000Z' }); // the series is still anomalous
    await cw.ticks();
    expect(await cw.actions()).toEqual(['trigger', 'resolve']);
    expect(await cw.store.incidents.list()).toHaveLength(1);
    expect((await cw.store.alerts.getMany([alert.id]))[0]).toMatchObject({ updatedAt: '2026-03-02T10:02:00.000Z' }); // still recorded

    // Once it resolves and fires again later, that is news: a new page.
    await cw.emit(resolvedAlert({ ...alert, updatedAt: '2026-03-02T10:03:00.000Z' }));
    cw.clock.now += 3_600_000;
    await cw.emit(anAlert({ id: 'alrt-later', startedAt: '2026-03-02T11:30:00.000Z', updatedAt: '2026-03-02T11:30:00.000Z' }));
    expect(await cw.actions()).toEqual(['trigger', 'resolve', 'trigger']);
  });

  it('resumes after a restart: no second page for a paged incident, and a resolve held by the flap window is still sent', async () => {
    const cw = await setup(backend);
    const alert = anAlert();
    await cw.emit(alert);
    expect(await cw.actions()).toEqual(['trigger']);

    await cw.restart();
    await cw.emit({ ...alert, updatedAt: '2026-03-02T10:01:00.000Z' }); // Kafka replays from the checkpoint
    await cw.ticks();
    expect(await cw.actions()).toEqual(['trigger']);

    await cw.emit(resolvedAlert(alert));
    await cw.restart(); // dies inside the flap window, before the resolve was written
    cw.clock.now += 60_000;
    await cw.ticks();
    expect(await cw.actions()).toEqual(['trigger', 'resolve']);
    await cw.restart();
    await cw.ticks();
    expect(await cw.actions()).toEqual(['trigger', 'resolve']);
  });
});

describe('alert routers of several instances on one PostgreSQL', { timeout: 60_000 }, () => {
  const postgres = PERSISTENT_STORE_BACKENDS.find((backend) => backend.name === 'postgres')!;
  const pagesOf = async (store: Store) => (await store.outbox.list()).map((row) => row.action);

  it('page once when both route the same emission, and once when each routes a different alert of the incident', async () => {
    const cw = await setup(postgres);
    const other = await cw.another();
    const alert = anAlert({ id: 'alrt-shared' });
    // Around a handover both instances process the same record: the same emission reaches both routers at once.
    cw.feed(alert);
    await Promise.all([other.emit(alert), cw.router.idle()]);
    expect(await pagesOf(cw.store)).toEqual(['trigger']);
    await Promise.all([cw.emit(anAlert({ id: 'alrt-a', metric: 'error_rate' })), other.emit(anAlert({ id: 'alrt-b', metric: 'saturation' }))]);
    const incidents = await cw.store.incidents.list();
    expect(incidents).toHaveLength(1);
    expect([...incidents[0]!.alertIds].sort()).toEqual(['alrt-a', 'alrt-b', 'alrt-shared']);
    // Neither instance's memory lost the other's alert, and the groupInterval page went out once.
    cw.clock.now += 300_000;
    await Promise.all([cw.ticks(), other.router.idle()]);
    expect(await pagesOf(cw.store)).toEqual(['trigger', 'trigger']);
  });

  it('leave a page an instance was waiting to send to another when it dies, and its resolve after the flap window', async () => {
    const cw = await setup(postgres, { groupWaitMs: 30_000 });
    const survivor = await cw.another();
    const alert = anAlert({ id: 'alrt-orphan' });
    await cw.emit(alert);
    await cw.router.stop(); // the instance dies inside groupWait; nothing of its memory survives
    cw.clock.now += 30_000;
    await cw.ticks();
    await survivor.router.idle();
    expect(await pagesOf(survivor.store)).toEqual(['trigger']);

    // The partition moved: the survivor now emits the alert; it resolves, and the flap window holds the resolve.
    const resolved = resolvedAlert(alert);
    await survivor.emit(resolved);
    await cw.ticks();
    expect(await pagesOf(survivor.store)).toEqual(['trigger']);
    cw.clock.now += 60_000;
    await cw.ticks();
    await survivor.router.idle();
    expect(await pagesOf(survivor.store)).toEqual(['trigger', 'resolve']);
  });

  it('share a person\'s decisions: an acknowledge on one reaches the other\'s core, a resolve on one detaches the alert the other emits', async () => {
    const cw = await setup(postgres);
    const other = await cw.another();
    const alert = anAlert({ id: 'alrt-human' });
    await cw.emit(alert);
    const [incident] = await cw.store.incidents.list();
    await other.router.acknowledge(incident!.id, 'alice', 'on it');
    expect(other.ports.acknowledged).toEqual(['alrt-human']);
    await cw.ticks();
    await cw.router.idle();
    expect(cw.ports.acknowledged).toEqual(['alrt-human']); // from its re-read of the incidents in progress
    await other.router.resolve(incident!.id, 'bob', 'rolled back by hand');
    expect(await pagesOf(cw.store)).toEqual(['trigger', 'acknowledge', 'resolve']);
    // The series is still anomalous on the instance that owns it: recorded, not routed, no new page.
    cw.clock.now += 120_000;
    await cw.emit({ ...alert, updatedAt: '2026-03-02T10:02:00.000Z' });
    await cw.ticks();
    expect(await pagesOf(cw.store)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(await cw.store.incidents.list()).toHaveLength(1);
  });
});

