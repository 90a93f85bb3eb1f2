/**
 * Scale-out, end to end: three changewatch processes in one consumer group over one PostgreSQL
 * share the telemetry partitions. An AI agent's deploy breaks payments mid-stream; the instance
 * that owns payments' partition raises the alert and is SIGKILLed while its page still waits out
 * groupWait. Its partitions move: the new owner restores their state from PostgreSQL before
 * processing them and raises the anomalies that follow with the ids a single-instance replay
 * gives; the waiting page goes out once (the decision is on the incident's row, not in the dead
 * process), one page per dedup key in all, at most one rollback, and every surviving instance's
 * API and dashboard show every alert, whichever instance produced it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Alert } from '../../contract/alert.ts';
import type { TelemetryPoint } from '../../contract/events.ts';
import type { Incident } from '../../contract/incident.ts';
import type { ServerToClientEvents } from '../../contract/socket.ts';
import { generateWebhookSecret } from '../../server/alerts/notifiers/standard-webhooks.ts';
import { replayRecords } from '../../server/pipeline/replay.ts';
import { quoteIdentifier } from '../../server/store/postgres-database.ts';
import { startServiceProcess, type ServiceProcess } from '../../tooling/dev/service-process.ts';
import { aChange, stepSeries } from '../support/factories.ts';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.ts';
import { connectedProducer, eventually, TopicReader, topicEnv, uniqueTopics } from '../support/kafka-helpers.ts';
import { TEST_DATABASE_URL } from '../server/store/backends.ts';

const brokers = inject('kafkaBrokers');
const schema = `cw_handover_${process.pid}_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
});
afterAll(async () => {
  await admin.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`);
  await admin.end();
});

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Status {
  stats: { eventsProcessed: number };
  consumedOffsets: Record<string, string>;
  assignedPartitions: string[];
}

async function status(service: ServiceProcess): Promise<Status> {
  return (await (await fetch(`${service.url}/api/v1/status`)).json()) as Status;
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

/** A receiver standing in for the pager and the CD system, closed after the test. */
async function startReceiver(): Promise<HttpReceiver> {
  const receiver = await startHttpReceiver();
  cleanup.push(() => receiver.close());
  return receiver;
}

describe('three instances in one group', () => {
  it('an instance SIGKILLed mid-incident hands over its partitions and its pending page: replay ids, one page per dedup key, at most one rollback, every dashboard sees every alert', async () => {
    const topics = uniqueTopics('handover');
    const receiver = await startReceiver();
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-handover-'));
    const configFile = path.join(dir, 'changewatch.yaml');
    // groupWait 3 s: long enough that the owner of payments dies with its page still waiting.
    writeFileSync(
      configFile,
      `incidents: { groupWaitMs: 3000, flapWindowMs: 0, repeatIntervalMs: 3600000 }
notify:
  - { name: oncall, type: webhook, url: "${receiver.url}/hook", secret: \${HOOK_SECRET} }
rollback:
  mode: automatic
  webhook: { url: "${receiver.url}/rollback", secret: \${ROLLBACK_SECRET} }
`,
    );
    const env = {
      ...topicEnv(topics, brokers),
      CHANGEWATCH_CONFIG: configFile,
      HOOK_SECRET: generateWebhookSecret(),
      ROLLBACK_SECRET: generateWebhookSecret(),
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      KAFKA_CHECKPOINT_INTERVAL_MS: '500',
    };
    const start = Date.now() - 3 * 3_600_000;
    // Eight services on the four partitions, two each (the producer keys by service; here the
    // partition is set explicitly so the test knows which instance owns payments).
    const services = ['checkout', 'payments', 'inventory', 'search', 'cart', 'auth', 'shipping', 'catalog'];
    const partitionOf = (service: string) => services.indexOf(service) % 4;
    const PAYMENTS_PARTITION = `${topics.telemetry}:${partitionOf('payments')}`;
    const normal = services.flatMap((service, i) => stepSeries({ service, start: start + i * 1_000, normal: 250, anomalous: 0, base: 100 + 10 * i }));
    const anomalous = services.flatMap((service, i) => stepSeries({ service, start: start + i * 1_000, normal: 250, anomalous: 20, base: 100 + 10 * i }).slice(250));
    const change = aChange({ id: 'chg-ai-payments', service: 'payments', timestamp: start + 249 * 10_000 });
    const byTime = (a: { timestamp: number }, b: { timestamp: number }) => a.timestamp - b.timestamp;
    const expected = replayRecords([{ change }, ...[...normal, ...anomalous].sort(byTime).map((metric) => ({ metric }))]).filter((a) => a.status === 'firing');
    const expectedIds = new Set(expected.map((a) => a.id));
    expect(expectedIds.size).toBe(services.length);

    const producer = await connectedProducer(brokers);
    cleanup.push(() => producer.disconnect());
    const send = (points: readonly TelemetryPoint[]) =>
      producer.send({ topic: topics.telemetry, messages: points.map((p) => ({ key: p.service, partition: partitionOf(p.service), value: JSON.stringify(p) })) });
    await producer.send({ topic: topics.changes, messages: [{ key: change.service, value: JSON.stringify(change) }] });
    await send([...normal].sort(byTime));

    const instances: ServiceProcess[] = [];
    for (const name of ['a', 'b', 'c']) {
      const service = await startServiceProcess({ ...env, CHANGEWATCH_DATA_DIR: path.join(dir, name) });
      cleanup.push(() => service.child.kill('SIGKILL'));
      instances.push(service);
    }
    // The group splits the four partitions 2/1/1 (the mock broker may refuse a join in a race; the fetch thread retries).
    const assignments = async () => (await Promise.all(instances.map(status))).map((s) => s.assignedPartitions);
    await eventually(
      async () => {
        const now = await assignments();
        return now.every((owned) => owned.length >= 1) && new Set(now.flat()).size === 4 && now.flat().length === 4;
      },
      120_000,
      'the group to split the partitions among all three instances',
    );
    // Every point processed by some instance (each also read the one change). Consumed offsets do not
    // tell: a partition that moved after its owner read it whole shows no offset on its new owner yet.
    await eventually(
      async () => (await Promise.all(instances.map(status))).reduce((sum, s) => sum + s.stats.eventsProcessed - 1, 0) >= normal.length,
      60_000,
      'the instances to absorb the normal history',
    );
    // Past a checkpoint interval, every partition's state is in PostgreSQL.
    await new Promise((r) => setTimeout(r, 1_500));
    const owners = await assignments();
    const victim = instances[owners.findIndex((owned) => owned.includes(PAYMENTS_PARTITION))]!;
    const survivors = instances.filter((instance) => instance !== victim);

    // The deploy breaks payments (and the rest of the fleet moves too): the owner of payments raises
    // its alert; it dies the moment that alert is out, while the page waits out groupWait.
    const alerts = await TopicReader.start(brokers, topics.alerts);
    cleanup.push(() => alerts.stop());
    const firstPart = anomalous.filter((p) => p.timestamp < start + 256 * 10_000);
    await send([...firstPart].sort(byTime));
    const paymentsAlert = expected.find((a) => a.service === 'payments')!;
    await eventually(() => alerts.messages.some((m) => m.key === paymentsAlert.id), 60_000, "payments' alert from the instance that owns it");
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await send(anomalous.filter((p) => !firstPart.includes(p)).sort(byTime));

    await eventually(async () => (await Promise.all(survivors.map(status))).flatMap((s) => s.assignedPartitions).length === 4, 60_000, 'the survivors to be assigned every partition');
    const takenOverMs = Date.now() - killedAt;
    expect(takenOverMs).toBeLessThan(60_000);

    // Every anomaly is raised, with the replay's ids; payments' alert still names the deploy.
    await eventually(() => new Set(alerts.messages.map((m) => m.key)).size >= expectedIds.size, 60_000, 'every anomaly on the alerts topic');
    const firing = alerts.messages.map((m) => JSON.parse(m.value.toString()) as Alert).filter((a) => a.status === 'firing');
    expect(new Set(firing.map((a) => a.id))).toEqual(expectedIds);
    const paymentsFiring = firing.filter((a) => a.id === paymentsAlert.id);
    expect(paymentsFiring.at(-1)!.suspects[0]?.changeId).toBe(paymentsAlert.suspects[0]?.changeId);

    // One page per incident (dedup key), payments' included although its owner died before sending it.
    const incidentsNow = async () => (await getJson<{ incidents: Incident[] }>(`${survivors[0]!.url}/api/v1/incidents?limit=100`)).incidents;
    await eventually(async () => new Set((await incidentsNow()).flatMap((incident) => incident.alertIds)).size >= expectedIds.size, 30_000, 'every alert routed into an incident');
    const incidents = await incidentsNow();
    const paymentsIncident = incidents.find((incident) => incident.alertIds.includes(paymentsAlert.id))!;
    expect(paymentsIncident).toBeDefined();
    const triggers = () =>
      receiver.requests
        .filter((r) => r.path === '/hook')
        .map((r) => ({ id: String(r.headers['webhook-id']), body: JSON.parse(r.body) as { type: string; data: { incident: Incident } } }))
        .filter((r) => r.body.type.endsWith('triggered'));
    // Within groupWait, the sync interval and (when the dead instance had leased a page it had not
    // sent) the delivery lease of 60 s, after which another instance's worker sends it.
    await eventually(() => new Set(triggers().map((t) => t.body.data.incident.id)).size === incidents.length, 90_000, 'a page for every incident');
    await new Promise((r) => setTimeout(r, 2_000)); // room for a second page, which must not come
    const pagesPerIncident = new Map<string, Set<string>>();
    for (const trigger of triggers()) pagesPerIncident.set(trigger.body.data.incident.id, (pagesPerIncident.get(trigger.body.data.incident.id) ?? new Set()).add(trigger.id));
    expect([...pagesPerIncident.values()].map((ids) => ids.size)).toEqual(incidents.map(() => 1));
    expect(pagesPerIncident.has(paymentsIncident.id)).toBe(true);

    // At most one rollback of the deploy, decided once across the fleet and sent at most once.
    // (Suppressed decisions are records too, one per incident that named the deploy: not rollbacks.)
    const { rollbacks } = await getJson<{ rollbacks: Array<{ id: string; changeId: string; status: string }> }>(`${survivors[1]!.url}/api/v1/rollbacks?limit=100`);
    expect(rollbacks.filter((r) => r.changeId === change.id && r.status !== 'suppressed').length).toBeLessThanOrEqual(1);
    expect(new Set(receiver.requests.filter((r) => r.path === '/rollback').map((r) => String(r.headers['webhook-id']))).size).toBeLessThanOrEqual(1);

    // Every survivor's API and dashboard show every alert, whichever instance produced it.
    for (const survivor of survivors) {
      await eventually(
        async () => new Set((await getJson<{ alerts: Alert[] }>(`${survivor.url}/api/v1/alerts?limit=100`)).alerts.map((a) => a.id)).size >= expectedIds.size,
        15_000,
        `every alert on ${survivor.url}'s API`,
      );
      const socket = io(survivor.url, { transports: ['websocket'], forceNew: true });
      const snapshot = await new Promise<Parameters<ServerToClientEvents['snapshot']>[0]>((resolve) => socket.once('snapshot', resolve));
      socket.close();
      expect(new Set(snapshot.alerts.map((a) => a.id))).toEqual(expect.objectContaining({ size: expectedIds.size }));
      for (const id of expectedIds) expect(snapshot.alerts.some((a) => a.id === id)).toBe(true);
    }
  }, 300_000);
});
