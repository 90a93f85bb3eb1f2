/**
 * Real-time delivery through real local HTTP receivers, on both databases: PagerDuty, Slack and
 * signed webhooks end to end; receivers that fail with 500s, time out, or are down for a while;
 * and a crash mid-delivery followed by a restart on the same data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueNotifications } from '../../../../server/alerts/delivery/enqueue.ts';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../../../server/alerts/delivery/worker.ts';
import { notifyConfigSchema, type NotifierConfig } from '../../../../server/alerts/notifiers/config.ts';
import { createNotifiers } from '../../../../server/alerts/notifiers/index.ts';
import { selectEndpoints } from '../../../../server/alerts/notifiers/match.ts';
import type { PagerDutyEvent } from '../../../../server/alerts/notifiers/pagerduty.ts';
import { verifyWebhook } from '../../../../server/alerts/notifiers/standard-webhooks.ts';
import type { NotificationAction } from '../../../../server/alerts/notifiers/types.ts';
import type { WebhookBody } from '../../../../server/alerts/notifiers/webhook.ts';
import type { Store } from '../../../../server/store/store.ts';
import { PERSISTENT_STORE_BACKENDS } from '../../store/backends.ts';
import { makeAlert, makeIncident } from '../../store/fixtures.ts';
import { startReceiver, type ReceivedRequest, type Receiver, type ReceiverBehaviour } from '../notifiers/receiver.ts';
import { captureLogger } from './support.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ROUTING_KEY = 'pdR0utingKeyVerySecret42';
const URL_TOKEN = 'urlT0kenVerySecret';
const ACTIONS: NotificationAction[] = ['trigger', 'acknowledge', 'resolve'];

/** A receiver that verifies Standard Webhooks signatures and answers from a list of steps, then 200. */
function signedReceiverBehaviour(steps: Array<'500' | '503-retry-after' | 'hang' | 'ok'>, accepted: ReceivedRequest[]): ReceiverBehaviour {
  return (request, response) => {
    const step = steps.shift() ?? 'ok';
    if (step === 'hang') return;
    if (step === '500') return void response.writeHead(500).end('internal error');
    if (step === '503-retry-after') return void response.writeHead(503, { 'retry-after': '1' }).end();
    try {
      verifyWebhook(SECRET, request.headers as Record<string, string>, request.body);
    } catch {
      return void response.writeHead(401).end('bad signature');
    }
    accepted.push(request);
    response.writeHead(204).end();
  };
}

/** Webhook bodies of accepted requests as `incident:action` per incident, in acceptance order. */
function actionsByIncident(accepted: ReceivedRequest[]): Record<string, NotificationAction[]> {
  const result: Record<string, NotificationAction[]> = {};
  for (const request of accepted) {
    const { data } = JSON.parse(request.body) as WebhookBody;
    (result[data.incident.id] ??= []).push(data.action);
  }
  return result;
}

describe.each(PERSISTENT_STORE_BACKENDS)('delivery on $name with real receivers', (backend) => {
  let store: Store;
  let database: Awaited<ReturnType<typeof backend.create>>;
  const workers: DeliveryWorker[] = [];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    database = await backend.create();
    store = await database.open();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop(0)));
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await store?.close();
    await database?.cleanup();
  });

  const receiver = async (behaviour?: ReceiverBehaviour, port?: number) => {
    const started = await startReceiver(behaviour, port);
    receivers.push(started);
    return started;
  };

  const startWorker = (configs: NotifierConfig[], options: Partial<DeliveryWorkerOptions> = {}) => {
    const worker = new DeliveryWorker({
      store,
      notifiers: createNotifiers(configs),
      logger: captureLogger(),
      pollIntervalMs: 25,
      leaseMs: 5_000,
      backoff: { baseMs: 20, maxMs: 200 },
      circuitBreaker: { failureThreshold: 3, cooldownMs: 300 },
      ...options,
    });
    workers.push(worker);
    worker.start();
    return worker;
  };

  /** Enqueues trigger, acknowledge and resolve for each incident, one transaction per step like the pipeline would. */
  const enqueueLifecycles = async (configs: NotifierConfig[], incidentIds: string[]) => {
    for (const action of ACTIONS) {
      for (const id of incidentIds) {
        const incident = makeIncident({ id, groupKey: `g-${id}`, status: action === 'trigger' ? 'firing' : action === 'acknowledge' ? 'acknowledged' : 'resolved' });
        const alerts = [makeAlert({ id: `alert-${id}` })];
        await store.transaction((tx) =>
          enqueueNotifications(tx.outbox, selectEndpoints(configs, incident, alerts), { action, incident, alerts, dashboardUrl: `http://dash.local/incidents/${id}` }, Date.now()),
        );
      }
    }
  };

  const allSettled = (endpoint: string) =>
    expect.poll(async () => (await store.outbox.list({ endpoint, status: ['pending'] })).length, { timeout: 20_000, interval: 50 }).toBe(0);

  it('delivers to PagerDuty, Slack and a signed webhook, in order per incident', async () => {
    const pd = await receiver();
    const slack = await receiver();
    const accepted: ReceivedRequest[] = [];
    const hook = await receiver(signedReceiverBehaviour([], accepted));
    const configs = notifyConfigSchema.parse([
      { name: 'e2e-pd', type: 'pagerduty', url: `${pd.url}/v2/enqueue`, routingKey: ROUTING_KEY, match: { severity: ['critical', 'warning'] } },
      { name: 'e2e-slack', type: 'slack', url: `${slack.url}/services/T/B/${URL_TOKEN}` },
      { name: 'e2e-hook', type: 'webhook', url: `${hook.url}/changewatch`, secret: SECRET },
    ]);
    const worker = startWorker(configs);
    await enqueueLifecycles(configs, ['e2e-1', 'e2e-2']);
    worker.wake();
    for (const config of configs) await allSettled(config.name);

    const events = pd.requests.map((r) => JSON.parse(r.body) as PagerDutyEvent);
    for (const id of ['e2e-1', 'e2e-2']) {
      const forIncident = events.filter((e) => e.dedup_key === `changewatch/${id}`);
      expect(forIncident.map((e) => e.event_action)).toEqual(ACTIONS);
      expect(forIncident.every((e) => e.routing_key === ROUTING_KEY)).toBe(true);
      expect(forIncident[0]!.payload).toMatchObject({ source: 'checkout', severity: 'critical', group: 'prod', component: 'error_rate' });
      expect(forIncident[0]!.links).toEqual([{ href: `http://dash.local/incidents/${id}`, text: 'Incident in changewatch' }]);
    }
    expect(slack.requests).toHaveLength(6);
    expect(slack.requests.every((r) => r.path === `/services/T/B/${URL_TOKEN}`)).toBe(true);
    expect(actionsByIncident(accepted)).toEqual({ 'e2e-1': ACTIONS, 'e2e-2': ACTIONS });
    expect(new Set(accepted.map((r) => r.headers['webhook-id'])).size).toBe(6);
    const rows = (await store.outbox.list({ limit: 1000 })).filter((row) => row.endpoint.startsWith('e2e-'));
    expect(rows.map((row) => row.status)).toEqual(Array(18).fill('delivered'));
  });

  it('recovers from 500s, Retry-After and timeouts without loss, in order per incident, with no secret in logs', async () => {
    const accepted: ReceivedRequest[] = [];
    const hook = await receiver(signedReceiverBehaviour(['500', '500', 'hang', '503-retry-after', '500', 'hang', '500', '500', 'hang'], accepted));
    const configs = notifyConfigSchema.parse([{ name: 'flaky-hook', type: 'webhook', url: `${hook.url}/h?token=${URL_TOKEN}`, secret: SECRET, timeoutMs: 300 }]);
    const logger = captureLogger();
    const worker = startWorker(configs, { logger });
    const incidents = ['flaky-1', 'flaky-2', 'flaky-3', 'flaky-4'];
    await enqueueLifecycles(configs, incidents);
    worker.wake();
    await allSettled('flaky-hook');

    expect(actionsByIncident(accepted)).toEqual(Object.fromEntries(incidents.map((id) => [id, ACTIONS])));
    expect(hook.requests.length).toBeGreaterThan(accepted.length); // failures really happened
    const rows = await store.outbox.list({ endpoint: 'flaky-hook' });
    expect(rows.map((row) => row.status)).toEqual(Array(12).fill('delivered'));
    expect(rows.some((row) => row.attempts > 1)).toBe(true);

    const logged = JSON.stringify(logger.lines);
    expect(logged).toContain('will retry');
    expect(logged).toContain('HTTP 500');
    expect(logged).toContain('within 300 ms');
    const stored = JSON.stringify(rows.map((row) => row.lastError));
    for (const secret of [SECRET, SECRET.slice(6), URL_TOKEN]) {
      expect(logged).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
  });

  it('holds notifications while a receiver is down, opens its circuit, and delivers them all once it is back', async () => {
    const accepted: ReceivedRequest[] = [];
    const first = await receiver(signedReceiverBehaviour([], accepted));
    const port = Number(new URL(first.url).port);
    await first.close();
    const configs = notifyConfigSchema.parse([{ name: 'down-hook', type: 'webhook', url: `http://127.0.0.1:${port}/h`, secret: SECRET, timeoutMs: 300 }]);
    const other = await receiver();
    const otherConfig = notifyConfigSchema.parse([{ name: 'up-slack', type: 'slack', url: `${other.url}/s` }]);
    const worker = startWorker([...configs, ...otherConfig]);
    await enqueueLifecycles([...configs, ...otherConfig], ['down-1', 'down-2']);
    worker.wake();

    // The healthy endpoint is not held back by the dead one.
    await allSettled('up-slack');
    await expect.poll(() => worker.status().circuits['down-hook']?.state, { timeout: 10_000, interval: 20 }).not.toBe('closed');
    expect((await store.outbox.list({ endpoint: 'down-hook', status: ['pending'] })).length).toBe(6);

    await receiver(signedReceiverBehaviour([], accepted), port);
    await allSettled('down-hook');
    expect(actionsByIncident(accepted)).toEqual({ 'down-1': ACTIONS, 'down-2': ACTIONS });
    expect((await store.outbox.list({ endpoint: 'down-hook' })).map((row) => row.status)).toEqual(Array(6).fill('delivered'));
    expect(worker.status().circuits['down-hook']?.state).toBe('closed');
  });

  it('after a crash mid-delivery, a restarted worker sends what was not delivered and nothing that was', async () => {
    const accepted: ReceivedRequest[] = [];
    const steps: Array<'hang' | 'ok'> = [];
    const hook = await receiver(signedReceiverBehaviour(steps, accepted));
    const configs = notifyConfigSchema.parse([{ name: 'restart-hook', type: 'webhook', url: `${hook.url}/h`, secret: SECRET, timeoutMs: 10_000 }]);
    const leaseMs = 1_000;
    const before = startWorker(configs, { leaseMs });
    const trigger = async (id: string, action: NotificationAction) => {
      const incident = makeIncident({ id, groupKey: `g-${id}` });
      await store.transaction((tx) =>
        enqueueNotifications(tx.outbox, ['restart-hook'], { action, incident, alerts: [makeAlert()], dashboardUrl: 'http://dash.local/' }, Date.now()),
      );
      before.wake();
    };

    await trigger('rs-1', 'trigger');
    await allSettled('restart-hook');
    const deliveredBeforeCrash = accepted.map((r) => r.headers['webhook-id']);
    expect(deliveredBeforeCrash).toHaveLength(1);

    // The receiver now takes requests and never answers; three attempts are in flight when we crash.
    steps.push('hang', 'hang', 'hang');
    await trigger('rs-1', 'acknowledge');
    await trigger('rs-2', 'trigger');
    await trigger('rs-3', 'trigger');
    await trigger('rs-1', 'resolve'); // queued behind rs-1's acknowledge
    await expect.poll(() => hook.requests.length, { timeout: 10_000, interval: 20 }).toBe(4);

    // Crash: the database goes away under the worker, so nothing it was doing gets recorded.
    await store.close();
    await before.stop(0);
    store = await database.open();
    expect((await store.outbox.list({ endpoint: 'restart-hook', status: ['pending'] })).length).toBe(4);

    const after = startWorker(configs, { leaseMs });
    after.wake();
    await allSettled('restart-hook');

    const acceptedIds = accepted.map((r) => r.headers['webhook-id']);
    expect(acceptedIds.filter((id) => id === deliveredBeforeCrash[0])).toHaveLength(1);
    expect(new Set(acceptedIds).size).toBe(5);
    expect(actionsByIncident(accepted)).toEqual({ 'rs-1': ACTIONS, 'rs-2': ['trigger'], 'rs-3': ['trigger'] });
    expect((await store.outbox.list({ endpoint: 'restart-hook' })).map((row) => row.status)).toEqual(Array(5).fill('delivered'));
  });
});
