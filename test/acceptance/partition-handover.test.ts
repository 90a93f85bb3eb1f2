/**
 * Scale-out, end to end: two changewatch processes in one consumer group over one PostgreSQL share
 * the telemetry partitions. One of them is SIGKILLed after its partitions' normal history was
 * checkpointed; the survivor is assigned those partitions, restores their state from PostgreSQL
 * before processing them, and raises the anomalies that follow with the ids a single-instance replay
 * gives. (Without the restore it would learn the anomalous level as normal and raise nothing.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Alert } from '../../contract/alert.ts';
import { replayRecords } from '../../server/pipeline/replay.ts';
import { quoteIdentifier } from '../../server/store/postgres-database.ts';
import { startServiceProcess, type ServiceProcess } from '../../tooling/dev/service-process.ts';
import { aChange, stepSeries } from '../support/factories.ts';
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

const children: ServiceProcess[] = [];
afterEach(() => {
  for (const service of children.splice(0)) service.child.kill('SIGKILL');
});

interface Status {
  stats: { eventsProcessed: number };
  consumedOffsets: Record<string, string>;
  assignedPartitions: string[];
}

async function status(service: ServiceProcess): Promise<Status> {
  return (await (await fetch(`${service.url}/api/v1/status`)).json()) as Status;
}

describe('two instances in one group', () => {
  it('a SIGKILLed instance hands its partitions over with their state: the survivor raises the replay\'s alerts', async () => {
    const topics = uniqueTopics('handover');
    const env = {
      ...topicEnv(topics, brokers),
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      KAFKA_CHECKPOINT_INTERVAL_MS: '500',
    };
    const start = Date.now() - 3 * 3_600_000;
    // Eight services, so both instances get some with data whichever way the four partitions fall.
    const services = ['checkout', 'payments', 'inventory', 'search', 'cart', 'auth', 'shipping', 'catalog'];
    const normal = services.flatMap((service, i) => stepSeries({ service, start: start + i * 1_000, normal: 250, anomalous: 0, base: 100 + 10 * i }));
    const anomalous = services.flatMap((service, i) => stepSeries({ service, start: start + i * 1_000, normal: 250, anomalous: 20, base: 100 + 10 * i }).slice(250));
    const change = aChange({ service: 'payments', timestamp: start + 249 * 10_000 });
    const byTime = (a: { timestamp: number }, b: { timestamp: number }) => a.timestamp - b.timestamp;
    const all = [...normal, ...anomalous].sort(byTime);
    const expected = replayRecords([{ change }, ...all.map((metric) => ({ metric }))]).filter((a) => a.status === 'firing');
    const expectedIds = new Set(expected.map((a) => a.id));
    expect(expectedIds.size).toBe(services.length);

    const producer = await connectedProducer(brokers);
    const send = (points: typeof normal) => producer.send({ topic: topics.telemetry, messages: points.map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
    await producer.send({ topic: topics.changes, messages: [{ key: change.service, value: JSON.stringify(change) }] });
    await send(normal.sort(byTime));

    const instances: ServiceProcess[] = [];
    for (const name of ['a', 'b']) {
      const service = await startServiceProcess({ ...env, CHANGEWATCH_DATA_DIR: mkdtempSync(path.join(tmpdir(), `cw-handover-${name}-`)) });
      children.push(service);
      instances.push(service);
    }
    // Both members settle on two partitions each (the mock broker may refuse a join in a race; the fetch thread retries).
    await eventually(async () => (await Promise.all(instances.map(status))).every((s) => s.assignedPartitions.length === 2), 90_000, 'the group to split the partitions between both instances');
    const telemetryConsumed = (s: Status) => Object.entries(s.consumedOffsets).filter(([key]) => key.startsWith(`${topics.telemetry}:`));
    await eventually(
      async () => (await Promise.all(instances.map(status))).reduce((sum, s) => sum + telemetryConsumed(s).reduce((n, [, offset]) => n + Number(offset), 0), 0) === normal.length,
      60_000,
      'both instances to absorb the normal history',
    );
    // Past a checkpoint interval, every partition's state is in PostgreSQL.
    await new Promise((r) => setTimeout(r, 1_500));
    const [victim, survivor] = instances as [ServiceProcess, ServiceProcess];
    const moved = (await status(victim)).assignedPartitions;
    expect(telemetryConsumed(await status(victim)).some(([, offset]) => Number(offset) > 0)).toBe(true);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();

    await send(anomalous.sort(byTime));
    await eventually(async () => (await status(survivor)).assignedPartitions.length === 4, 60_000, 'the survivor to be assigned every partition');
    const takenOverMs = Date.now() - killedAt;
    expect((await status(survivor)).assignedPartitions).toEqual(expect.arrayContaining(moved));

    const alerts = await TopicReader.start(brokers, topics.alerts);
    await eventually(() => new Set(alerts.messages.map((m) => m.key)).size >= expectedIds.size, 60_000, 'every anomaly on the alerts topic');
    await new Promise((r) => setTimeout(r, 500));
    await alerts.stop();
    await producer.disconnect();
    const firing = alerts.messages.map((m) => JSON.parse(m.value.toString()) as Alert).filter((a) => a.status === 'firing');
    expect(new Set(firing.map((a) => a.id))).toEqual(expectedIds);
    // The survivor restored the killed instance's partitions: payments' alert still names the deploy, as the replay does.
    const payments = firing.find((a) => a.service === 'payments')!;
    expect(payments.suspects[0]?.changeId).toBe(expected.find((a) => a.service === 'payments')!.suspects[0]?.changeId);
    expect(takenOverMs).toBeLessThan(60_000);
  }, 240_000);
});
