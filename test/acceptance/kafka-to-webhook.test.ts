/**
 * End to end on the real mock broker: change + telemetry on Kafka → alert → incident → a signed
 * webhook and a PagerDuty trigger on a real local receiver; acknowledge through the API → PagerDuty
 * acknowledge and an `acknowledged` alert on the alerts topic; recovery → resolve. A restart on the same data dir does not page again, and a
 * silence mutes the page while the incident is still recorded.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { TelemetryPoint } from '../../contract/events.ts';
import { generateWebhookSecret, verifyWebhook } from '../../server/alerts/notifiers/standard-webhooks.ts';
import { loadConfig } from '../../server/config.ts';
import type { Alert } from '../../contract/alert.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contract/socket.ts';
import type { Incident } from '../../contract/incident.ts';
import { hashToken } from '../../server/http/auth.ts';
import { FileCheckpointStore } from '../../server/ingest/file-checkpoint.ts';
import { createLogger } from '../../server/log.ts';
import { startService, type RunningService } from '../../server/service.ts';
import { aChange, stepSeries } from '../support/factories.ts';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.ts';
import { connectedProducer, eventually, topicEnv, TopicReader, uniqueTopics } from '../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
const OPERATOR_TOKEN = 'cw_acceptance-operator-token';
const PUBLIC_URL = 'http://changewatch.test:8080';
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A receiver standing in for the pager and the CD system, closed after the test. */
async function startReceiver(): Promise<HttpReceiver> {
  const receiver = await startHttpReceiver();
  cleanup.push(() => receiver.close());
  return receiver;
}

/** Everything one changewatch instance under test needs to start (and restart on the same data). */
function serviceSetup(receiverUrl: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-acceptance-'));
  const file = path.join(dir, 'changewatch.yaml');
  writeFileSync(
    file,
    `publicUrl: ${PUBLIC_URL}
pipeline: { resolveAfterMs: 30000 }
incidents: { groupWaitMs: 1000, flapWindowMs: 0, repeatIntervalMs: 3600000 }
notify:
  - name: oncall
    type: pagerduty
    url: \${PD_URL}
    routingKey: \${PD_ROUTING_KEY}
    match: { severity: [critical, warning] }
  - name: audit-hook
    type: webhook
    url: \${HOOK_URL}
    secret: \${HOOK_SECRET}
auth:
  tokens:
    - { name: ops-alice, role: operator, sha256: "${hashToken(OPERATOR_TOKEN)}" }
`,
  );
  const topics = uniqueTopics('acc');
  const secret = generateWebhookSecret();
  const env = {
    ...topicEnv(topics, brokers),
    PORT: '0',
    CHANGEWATCH_DATA_DIR: path.join(dir, 'data'),
    PD_URL: `${receiverUrl}/pd`,
    PD_ROUTING_KEY: 'R0UT1NGKEY0000000000000000000000',
    HOOK_URL: `${receiverUrl}/hook`,
    HOOK_SECRET: secret,
  };
  return { topics, secret, dataDir: env.CHANGEWATCH_DATA_DIR, routingKey: env.PD_ROUTING_KEY, start: () => startService(loadConfig({ file, env }), createLogger('silent')) };
}

async function started(setup: ReturnType<typeof serviceSetup>): Promise<RunningService> {
  const service = await setup.start();
  cleanup.push(() => service.stop()); // stop() is idempotent: a test may stop it earlier
  await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
  return service;
}

async function producer(): Promise<Producer> {
  const p = await connectedProducer(brokers);
  cleanup.push(() => p.disconnect());
  return p;
}

function messages(points: readonly TelemetryPoint[]) {
  return points.map((p) => ({ key: p.service, value: JSON.stringify(p) }));
}

async function api<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as T };
}

const asOperator = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };

describe('Kafka to pager, end to end (real broker, real receivers)', () => {
  it('pages once with a signed webhook and a PagerDuty trigger, survives a restart without paging again, then acknowledges and resolves', async () => {
    const receiver = await startReceiver();
    const setup = serviceSetup(receiver.url);
    let service = await started(setup);
    const kafka = await producer();
    // 10 s steps: 200 normal points, a change just before the step, then the anomaly.
    const series = stepSeries({ normal: 200, anomalous: 4, start: Date.now() - 3_000_000 });
    // Changes and telemetry are separate topics with no order between them: let the change land first.
    await kafka.send({ topic: setup.topics.changes, messages: [{ key: 'checkout', value: JSON.stringify(aChange({ timestamp: series[198]!.timestamp })) }] });
    await eventually(() => service.core.recentChanges().length === 1, 15_000, 'the change to be consumed');
    await kafka.send({ topic: setup.topics.telemetry, messages: messages(series.slice(0, 203)) });

    const pd = () => receiver.requests.filter((r) => r.path === '/pd').map((r) => JSON.parse(r.body) as Record<string, any>);
    const hooks = () => receiver.requests.filter((r) => r.path === '/hook');
    await eventually(() => pd().length >= 1 && hooks().length >= 1, 15_000, 'the first page');

    const { body: list } = await api<{ incidents: Incident[] }>(`${service.url}/api/v1/incidents`);
    expect(list.incidents).toHaveLength(1);
    const incident = list.incidents[0]!;
    expect(incident).toMatchObject({ status: 'firing', service: 'checkout', environment: 'prod' });

    // PagerDuty Events API v2, field by field.
    const trigger = pd()[0]!;
    expect(trigger).toMatchObject({ routing_key: setup.routingKey, event_action: 'trigger', dedup_key: `changewatch/${incident.id}` });
    expect(trigger.payload).toMatchObject({ source: 'checkout', group: 'prod', component: 'latency_p99', class: 'anomaly' });
    expect(['critical', 'warning']).toContain(trigger.payload.severity);
    expect(trigger.payload.summary).toMatch(/checkout/);
    expect(trigger.payload.custom_details.top_suspect).toBeTruthy();
    expect(trigger.payload.custom_details.suspects[0]).toMatchObject({ change_id: 'chg-1', author_type: expect.any(String) });
    expect(trigger.payload.custom_details.suspects[0].evidence.length).toBeGreaterThan(0);
    expect(trigger.links[0].href).toBe(`${PUBLIC_URL}/?incident=${incident.id}`);

    // The webhook verifies with the configured secret and fails with another.
    const hook = hooks()[0]!;
    expect(() => verifyWebhook(setup.secret, hook.headers as Record<string, string>, hook.body)).not.toThrow();
    expect(() => verifyWebhook(generateWebhookSecret(), hook.headers as Record<string, string>, hook.body)).toThrow();
    expect(JSON.parse(hook.body)).toMatchObject({ type: 'incident.triggered', data: { incident: { id: incident.id } } });

    // Restart on the same data dir: the replayed input and a further anomalous point must not page again.
    await service.stop();
    service = await started(setup);
    // The stop checkpointed the partition the points arrived on (state and offset), so the restart resumed from it.
    const saved = await Promise.all([0, 1, 2, 3].map((p) => new FileCheckpointStore(path.join(setup.dataDir, 'checkpoints'), setup.topics.groupId).loadPartition(setup.topics.telemetry, p)));
    expect(saved.filter((p) => p !== undefined && p.series.length > 0)).toHaveLength(1);
    await kafka.send({ topic: setup.topics.telemetry, messages: messages(series.slice(203)) });
    await eventually(() => service.core.stats(true).eventsProcessed > 0, 15_000, 'the anomalous point after the restart');
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // several router ticks: time enough for a wrong re-page
    expect(pd().filter((e) => e.event_action === 'trigger')).toHaveLength(1);
    expect((await api<{ incidents: Incident[] }>(`${service.url}/api/v1/incidents`)).body.incidents.map((i) => i.id)).toEqual([incident.id]);

    // Dashboards hear about the acknowledgement on the socket.
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(service.url, { transports: ['websocket'] });
    cleanup.push(() => socket.close());
    const socketIncidents: Incident[] = [];
    const socketAlerts: Alert[] = [];
    socket.on('incident', (i) => socketIncidents.push(i));
    socket.on('alert', (a) => socketAlerts.push(a));
    await new Promise((resolve) => socket.once('snapshot', resolve));

    // Acknowledge needs an operator; then PagerDuty hears it under the same dedup_key.
    expect((await api(`${service.url}/api/v1/incidents/${incident.id}/acknowledge`, { method: 'POST' })).status).toBe(401);
    const acked = await api<{ incident: Incident }>(`${service.url}/api/v1/incidents/${incident.id}/acknowledge`, { method: 'POST', headers: asOperator, body: JSON.stringify({ reason: 'looking at it' }) });
    expect(acked.status).toBe(200);
    expect(acked.body.incident).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ops-alice' });
    await eventually(() => pd().some((e) => e.event_action === 'acknowledge'), 10_000, 'the PagerDuty acknowledge');
    expect(pd().find((e) => e.event_action === 'acknowledge')!.dedup_key).toBe(`changewatch/${incident.id}`);
    await eventually(() => socketIncidents.some((i) => i.id === incident.id && i.status === 'acknowledged'), 5_000, 'the incident event');
    await eventually(() => socketAlerts.some((a) => incident.alertIds.includes(a.id) && a.status === 'acknowledged'), 5_000, 'the acknowledged alert');
    // The alerts topic hears the same statuses as the dashboards: the acknowledgement too (one output path).
    const alertsTopic = await TopicReader.start(brokers, setup.topics.alerts);
    cleanup.push(() => alertsTopic.stop());
    const statusesOnTopic = () =>
      alertsTopic.messages.map((m) => JSON.parse(m.value.toString()) as Alert).filter((a) => incident.alertIds.includes(a.id)).map((a) => a.status);
    await alertsTopic.waitFor(() => statusesOnTopic().includes('acknowledged'), 10_000);

    // Back to normal for longer than resolveAfterMs (event time): the alert resolves, so does the incident.
    const recovery = stepSeries({ normal: 8, anomalous: 0, start: series.at(-1)!.timestamp + 10_000 });
    await kafka.send({ topic: setup.topics.telemetry, messages: messages(recovery) });
    await eventually(() => pd().some((e) => e.event_action === 'resolve'), 15_000, 'the PagerDuty resolve');
    expect(pd().map((e) => e.event_action)).toEqual(['trigger', 'acknowledge', 'resolve']);
    expect(pd().every((e) => e.dedup_key === `changewatch/${incident.id}`)).toBe(true);
    await eventually(() => hooks().length === 3, 5_000, 'the webhook resolve');
    expect(hooks().map((h) => JSON.parse(h.body).type)).toEqual(['incident.triggered', 'incident.acknowledged', 'incident.resolved']);
    const { body: detail } = await api<{ incident: Incident; alerts: Array<{ status: string }> }>(`${service.url}/api/v1/incidents/${incident.id}`);
    expect(detail.incident.status).toBe('resolved');
    expect(detail.alerts.every((a) => a.status === 'resolved')).toBe(true);
    await alertsTopic.waitFor(() => statusesOnTopic().includes('resolved'), 10_000);
    expect(statusesOnTopic()[0]).toBe('firing');
    expect(statusesOnTopic().indexOf('acknowledged')).toBeLessThan(statusesOnTopic().indexOf('resolved'));
    const audit = await service.store.audit.list({ target: `incident:${incident.id}` });
    expect(audit.map((e) => [e.actor, e.action])).toContainEqual(['ops-alice', 'incident.acknowledge']);
  }, 90_000);

  it('records an incident under a silence without paging anyone', async () => {
    const receiver = await startReceiver();
    const setup = serviceSetup(receiver.url);
    const service = await started(setup);
    const silence = await api<{ silence: { id: string } }>(`${service.url}/api/v1/silences`, {
      method: 'POST',
      headers: asOperator,
      body: JSON.stringify({ matchers: { service: ['checkout'] }, endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: 'load test in progress' }),
    });
    expect(silence.status).toBe(201);

    const kafka = await producer();
    const series = stepSeries({ normal: 200, anomalous: 3, start: Date.now() - 3_000_000 });
    await kafka.send({ topic: setup.topics.changes, messages: [{ key: 'checkout', value: JSON.stringify(aChange({ timestamp: series[198]!.timestamp })) }] });
    await eventually(() => service.core.recentChanges().length === 1, 15_000, 'the change to be consumed');
    await kafka.send({ topic: setup.topics.telemetry, messages: messages(series) });

    await eventually(async () => (await service.store.incidents.list()).length === 1, 15_000, 'the incident to be recorded');
    const [incident] = await service.store.incidents.list();
    await eventually(async () => (await service.store.audit.list({ action: 'notification.suppressed' })).length === 1, 5_000, 'the suppression record');
    const [suppressed] = await service.store.audit.list({ action: 'notification.suppressed' });
    expect(suppressed).toMatchObject({ target: `incident:${incident!.id}`, reason: expect.stringContaining('load test in progress') });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.requests).toEqual([]);
    expect(await service.store.outbox.list()).toEqual([]);
  }, 60_000);
});
