/**
 * Changes announced through the outbox and the delivery worker, on PGlite and PostgreSQL: once per
 * change id per endpoint however many instances emit it and however often the topic is re-read
 * (on PostgreSQL, two instances with stores of their own on one schema and a worker each), never
 * for another instance's emissions or changes too old to be told apart from ones already pruned,
 * retried by the worker's backoff and audited when dead, beside incident notifications to the same
 * endpoint without either claiming the other's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_EVENT_MAX_AGE_MS, ChangeEventSink, changeEventSources } from '../../../server/alerts/change-events.ts';
import { enqueueNotifications } from '../../../server/alerts/delivery/enqueue.ts';
import { DeliveryWorker } from '../../../server/alerts/delivery/worker.ts';
import { notifyConfigSchema } from '../../../server/alerts/notifiers/config.ts';
import { createChangeSenders, createNotifiers } from '../../../server/alerts/notifiers/index.ts';
import type { PagerDutyChangeEvent } from '../../../server/alerts/notifiers/pagerduty-changes.ts';
import type { GrafanaAnnotation } from '../../../server/alerts/notifiers/grafana.ts';
import type { Emission } from '../../../server/emission.ts';
import type { Store } from '../../../server/store/store.ts';
import { STORE_BACKENDS } from '../store/backends.ts';
import { makeAlert, makeChange, makeIncident } from '../store/fixtures.ts';
import { captureLogger } from './delivery/support.ts';
import { accept, startReceiver, type Receiver } from './notifiers/receiver.ts';

const ROUTING_KEY = 'R0UT1NGKEYsecret0123456789abcdef';
const TOKEN = 'glsa_T0kenVerySecret';

const emission = (changes: Emission['changes'], origin?: 'fleet'): Emission => ({ alerts: [], changes, incidents: [], deadLetters: [], ...(origin ? { origin } : {}) });

describe.each(STORE_BACKENDS)('change events on $name', (backend) => {
  let database: Awaited<ReturnType<typeof backend.create>>;
  let store: Store;
  /** The second instance's store: its own connection on PostgreSQL, the same store on PGlite. */
  let other: Store;
  let pd: Receiver;
  let grafana: Receiver;
  let clock = Date.parse('2026-11-23T10:00:00.000Z');

  beforeAll(async () => {
    database = await backend.create();
    store = await database.open();
    other = backend.name === 'postgres' ? await database.open() : store;
    pd = await startReceiver(accept);
    grafana = await startReceiver((_request, response) => void response.writeHead(200).end('{"id":1}'));
  });
  afterAll(async () => {
    await pd?.close();
    await grafana?.close();
    if (other !== store) await other?.close();
    await store?.close();
    await database?.cleanup();
  });

  const configsFor = (suffix: string) =>
    notifyConfigSchema.parse([
      { name: `pd-${suffix}`, type: 'pagerduty', url: `${pd.url}/v2/enqueue`, routingKey: ROUTING_KEY, changeEvents: true },
      { name: `grafana-${suffix}`, type: 'grafana', url: grafana.url, token: TOKEN, match: { authorType: 'ai_agent' } },
      { name: `hook-${suffix}`, type: 'webhook', url: `${pd.url}/hook`, secret: 'whsec_dGVzdA==' },
    ]);

  /** One instance: its sink and its worker, on its store. */
  const instance = (on: Store, configs: ReturnType<typeof configsFor>) => {
    const logger = captureLogger();
    const worker = new DeliveryWorker({
      store: on,
      notifiers: createNotifiers(configs),
      sources: changeEventSources(on, createChangeSenders(configs), logger),
      logger,
      now: () => clock,
      random: () => 0.5,
      backoff: { baseMs: 1_000, maxMs: 1_000 },
    });
    const sink = new ChangeEventSink({ store: on, notify: configs, publicUrl: 'http://changewatch.local:8080/', log: logger, now: () => clock });
    return { sink, worker, logger };
  };

  it('announces each change once per endpoint across two instances and a re-read', async () => {
    const configs = configsFor('once');
    const a = instance(store, configs);
    const b = instance(other, configs);
    const deploy = makeChange({ id: 'once-1', timestamp: clock - 60_000 });
    const human = makeChange({ id: 'once-2', timestamp: clock - 30_000, author: { type: 'human', name: 'bob' } });
    a.sink.accept(emission([deploy, human]));
    b.sink.accept(emission([deploy, human]));
    a.sink.accept(emission([deploy])); // the topic re-read after a restart
    await Promise.all([a.sink.idle(), b.sink.idle()]);

    const rows = (await store.outbox.list({ limit: 1000 })).filter((row) => row.endpoint.endsWith('-once'));
    expect(rows.map((row) => [row.endpoint, row.incidentId]).sort()).toEqual([
      ['changes:grafana-once', 'change:once-1'],
      ['changes:pd-once', 'change:once-1'],
      ['changes:pd-once', 'change:once-2'],
    ]);

    const reports = await Promise.all([a.worker.processDue(), b.worker.processDue()]);
    expect(reports.reduce((sum, report) => sum + report.delivered, 0)).toBe(3);
    const changeEvents = pd.requests.filter((r) => r.path === '/v2/change/enqueue').map((r) => JSON.parse(r.body) as PagerDutyChangeEvent);
    expect(changeEvents.map((event) => event.payload.custom_details.change_id).sort()).toEqual(['once-1', 'once-2']);
    expect(changeEvents[0]!.links.at(-1)).toEqual({ href: 'http://changewatch.local:8080/', text: 'changewatch' });
    const annotations = grafana.requests.map((r) => JSON.parse(r.body) as GrafanaAnnotation);
    expect(annotations.map((annotation) => annotation.time)).toEqual([deploy.timestamp]);

    // Seen again later (another instance starting, a restart): nothing new is written or sent.
    b.sink.accept(emission([deploy, human]));
    await b.sink.idle();
    expect(await a.worker.processDue()).toMatchObject({ delivered: 0 });
    expect(pd.requests.filter((r) => r.path === '/v2/change/enqueue')).toHaveLength(2);
  });

  it("skips another instance's emissions and changes older than a day", async () => {
    const configs = configsFor('skip');
    const a = instance(store, configs);
    a.sink.accept(emission([makeChange({ id: 'skip-fleet', timestamp: clock })], 'fleet'));
    a.sink.accept(emission([makeChange({ id: 'skip-old', timestamp: clock - CHANGE_EVENT_MAX_AGE_MS - 1 })]));
    a.sink.accept(emission([makeChange({ id: 'skip-day', timestamp: clock - CHANGE_EVENT_MAX_AGE_MS })]));
    await a.sink.idle();
    const rows = (await store.outbox.list({ limit: 1000 })).filter((row) => row.endpoint.endsWith('-skip'));
    expect(rows.map((row) => row.incidentId)).toEqual(['change:skip-day', 'change:skip-day']);
  });

  it('retries through the worker with its backoff, and audits a refused change as dead', async () => {
    const configs = configsFor('retry');
    const a = instance(store, configs);
    const steps = ['503', 'ok', '400'];
    pd.behave((request, response) => {
      if (request.path !== '/v2/change/enqueue') return void response.writeHead(202).end();
      const step = steps.shift() ?? 'ok';
      if (step === '503') return void response.writeHead(503).end('busy');
      if (step === '400') return void response.writeHead(400).end('bad event');
      response.writeHead(202).end('{"status":"success"}');
    });
    a.sink.accept(emission([makeChange({ id: 'retry-1', timestamp: clock, author: { type: 'human', name: 'bob' } })]));
    await a.sink.idle();
    expect(await a.worker.processDue()).toMatchObject({ retried: 1, delivered: 0 });
    expect(await a.worker.processDue()).toMatchObject({ retried: 0, delivered: 0 }); // backing off
    clock += 1_000;
    expect(await a.worker.processDue()).toMatchObject({ delivered: 1 });

    a.sink.accept(emission([makeChange({ id: 'retry-2', timestamp: clock, author: { type: 'human', name: 'bob' } })]));
    await a.sink.idle();
    expect(await a.worker.processDue()).toMatchObject({ dead: 1 });
    const [dead] = await store.audit.list({ action: 'change.dead' });
    expect(dead).toMatchObject({ target: 'change:retry-2', evidence: { code: 'CW_NOTIFY_DEAD', endpoint: 'pd-retry', changeId: 'retry-2' } });
    expect(JSON.stringify(dead)).not.toContain(ROUTING_KEY);
    expect(a.logger.lines.some((line) => line.level === 'error' && (line.fields as { code?: string }).code === 'CW_NOTIFY_DEAD')).toBe(true);
    pd.behave(accept);
  });

  it("keeps change rows and incident notifications to one endpoint apart", async () => {
    const configs = configsFor('apart');
    const a = instance(store, configs);
    const incident = makeIncident({ id: 'apart-inc', groupKey: 'apart' });
    await enqueueNotifications(store.outbox, ['pd-apart'], { action: 'trigger', incident, alerts: [makeAlert()], dashboardUrl: 'http://d/' }, clock);
    a.sink.accept(emission([makeChange({ id: 'apart-1', timestamp: clock })]));
    await a.sink.idle();
    const before = pd.requests.length;
    expect(await a.worker.processDue()).toMatchObject({ delivered: 3 }); // trigger, change event, annotation
    expect(pd.requests.slice(before).map((r) => r.path).sort()).toEqual(['/v2/change/enqueue', '/v2/enqueue']);
    expect(a.worker.status().circuits).toHaveProperty(['changes:pd-apart']);
    expect((await store.outbox.list({ limit: 1000 })).filter((row) => row.endpoint.endsWith('-apart')).map((row) => row.status)).toEqual(['delivered', 'delivered', 'delivered']);
  });
});
