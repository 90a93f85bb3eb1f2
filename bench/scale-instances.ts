/**
 * The multi-instance half of `npm run bench:scale`: 1, 2 and 3 changewatch processes in one consumer
 * group over one PostgreSQL, on the same stream, on the real (mock) broker. For each instance count:
 * - the group settles first (every partition assigned) and a warm-up stream is processed (every
 *   series exists, code is compiled); the instances are stopped (SIGSTOP) while the stream is
 *   produced, then let go, and the aggregate events/s is measured from then to the last event;
 * - events per CPU-second: the events over the CPU time (user + system, all threads) the instances
 *   spent in that interval, read from /proc/<pid>/stat;
 * - the pause a rebalance causes: with a steady stream flowing, one more instance joins, and the
 *   longest time the group's processed count does not move is reported, with how long the join took
 *   to give the newcomer partitions. kafkajs's rebalance protocol is eager: every member stops
 *   during it, and that is what this measures.
 * The stream is small enough for the mock broker's ~5 MB per partition. Two shared cores cannot
 * scale throughput with instances; the figure to look at is events per CPU-second.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Producer } from 'kafkajs';
import { quoteIdentifier } from '../server/store/postgres-database.ts';
import { startMockKafka } from '../tooling/dev/mock-kafka.ts';
import { startServiceProcess, type ServiceProcess } from '../tooling/dev/service-process.ts';
import { connectedProducer, topicEnv, uniqueTopics } from '../test/support/kafka-helpers.ts';

/** One instance count's figures. */
export interface InstancesResult {
  instances: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  cpuSeconds: number;
  eventsPerCpuSecond: number;
  /** One more instance joining under a steady stream (absent for the largest count). */
  join?: { longestPauseMs: number; assignedAfterMs: number };
}

/** Options of the run. */
export interface InstancesOptions {
  counts: number[];
  databaseUrl: string;
  /** Series in the stream (four metrics per service). */
  series: number;
  /** Points per series. */
  points: number;
}

const METRICS = ['latency_p99', 'error_rate', 'requests_per_sec', 'cpu_utilization'];
const STEP_MS = 30_000;
const CLOCK_TICKS_PER_SECOND = 100;
/** Points per series sent before the measured stream. */
const WARM_UP_POINTS = 20;

interface Status {
  stats: { eventsProcessed: number };
  assignedPartitions: string[];
}

async function status(service: ServiceProcess): Promise<Status> {
  return (await (await fetch(`${service.url}/api/v1/status`)).json()) as Status;
}

/** CPU seconds (user + system, every thread) a process has used so far. */
function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The stream's points from point `from` for `count` points, time-ordered, as Kafka messages keyed by service. */
function messages(series: number, from: number, count: number, start: number): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (let k = from; k < from + count; k++) {
    for (let i = 0; i < series; i++) {
      const service = `svc-${Math.floor(i / METRICS.length)}`;
      const metric = METRICS[i % METRICS.length]!;
      const base = metric === 'error_rate' ? 0.01 : metric === 'latency_p99' ? 200 : metric === 'cpu_utilization' ? 0.5 : 1_000;
      const value = base * (1 + Math.sin(i * 12.9898 + k * 78.233) * 0.03);
      out.push({ key: service, value: JSON.stringify({ service, metric, timestamp: start + k * STEP_MS + (i % 1000), value, ...(metric === 'error_rate' ? { count: 2_000 } : {}) }) });
    }
  }
  return out;
}

async function produce(producer: Producer, topic: string, batch: Array<{ key: string; value: string }>): Promise<void> {
  for (let i = 0; i < batch.length; i += 2_000) await producer.send({ topic, messages: batch.slice(i, i + 2_000) });
}

/** Runs the instance counts one after another, each on fresh topics and a fresh schema. */
export async function benchInstances(options: InstancesOptions, print: (line: string) => void): Promise<InstancesResult[]> {
  const kafka = await startMockKafka();
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  const producer = await connectedProducer(kafka.brokers);
  const results: InstancesResult[] = [];
  try {
    for (const count of options.counts) {
      const topics = uniqueTopics('bench-scale');
      const schema = `cw_bench_instances_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
      const dir = mkdtempSync(path.join(tmpdir(), 'cw-bench-instances-'));
      const env = { ...topicEnv(topics, kafka.brokers), DATABASE_URL: `${options.databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
      const start = Date.now() - 24 * 3_600_000;
      const instances: ServiceProcess[] = [];
      const startOne = async (): Promise<ServiceProcess> => {
        const service = await startServiceProcess({ ...env, CHANGEWATCH_DATA_DIR: path.join(dir, String(instances.length)) });
        instances.push(service);
        return service;
      };
      const processed = async (): Promise<number> => (await Promise.all(instances.map(status))).reduce((sum, s) => sum + s.stats.eventsProcessed, 0);
      try {
        // Create the topic, then let the group settle before the stream starts.
        await produce(producer, topics.telemetry, messages(4, 0, 1, start));
        for (let i = 0; i < count; i++) await startOne();
        await waitFor(async () => {
          const owned = (await Promise.all(instances.map(status))).map((s) => s.assignedPartitions);
          return owned.every((partitions) => partitions.length > 0) && new Set(owned.flat()).size === 4;
        }, 180_000, `${count} instances to share the partitions`);
        await waitFor(async () => (await processed()) >= 4, 60_000, 'the first points');
        // Warm-up (JIT, every series created), so the measured stream is steady-state processing.
        const warmUp = messages(options.series, 1, WARM_UP_POINTS, start);
        const warmed = (await processed()) + warmUp.length;
        await produce(producer, topics.telemetry, warmUp);
        await waitFor(async () => (await processed()) >= warmed, 300_000, 'the warm-up points');

        // The stream is in the topic before the instances see it, so the producer's pace is not what
        // is measured: they are stopped (SIGSTOP, well inside the group's session timeout) while it is
        // produced, and measured from the moment they go on.
        const stream = messages(options.series, 1 + WARM_UP_POINTS, options.points, start);
        const before = await processed();
        for (const service of instances) service.child.kill('SIGSTOP');
        const producedAt = performance.now();
        await produce(producer, topics.telemetry, stream);
        if (performance.now() - producedAt > 8_000) print(`warning: producing took ${Math.round(performance.now() - producedAt)} ms, near the session timeout`);
        const cpuBefore = instances.map((service) => cpuSeconds(service.child.pid!));
        const resumedAt = performance.now();
        for (const service of instances) service.child.kill('SIGCONT');
        await waitFor(async () => (await processed()) - before >= stream.length, 600_000, 'the stream to be processed');
        const seconds = (performance.now() - resumedAt) / 1_000;
        const cpu = instances.reduce((sum, service, i) => sum + cpuSeconds(service.child.pid!) - cpuBefore[i]!, 0);
        const result: InstancesResult = {
          instances: count,
          events: stream.length,
          seconds: Number(seconds.toFixed(2)),
          eventsPerSec: Math.round(stream.length / seconds),
          cpuSeconds: Number(cpu.toFixed(2)),
          eventsPerCpuSecond: Math.round(stream.length / cpu),
        };

        if (count < Math.max(...options.counts)) {
          // A steady stream (one point per series every 2 s of wall time) while one more instance joins.
          let k = 1 + WARM_UP_POINTS + options.points;
          let flowing = true;
          const steady = (async () => {
            while (flowing) {
              await produce(producer, topics.telemetry, messages(Math.min(options.series, 400), k++, 1, start));
              await new Promise((r) => setTimeout(r, 500));
            }
          })();
          await new Promise((r) => setTimeout(r, 5_000));
          let last = await processed();
          let lastMovedAt = performance.now();
          let longestPauseMs = 0;
          const joinedAt = performance.now();
          const newcomer = startOne();
          let assignedAfterMs = -1;
          while (performance.now() - joinedAt < 60_000) {
            await new Promise((r) => setTimeout(r, 100));
            const now = await processed();
            if (now !== last) {
              longestPauseMs = Math.max(longestPauseMs, performance.now() - lastMovedAt);
              last = now;
              lastMovedAt = performance.now();
            }
            if (assignedAfterMs < 0 && instances.length > count && (await status(instances.at(-1)!)).assignedPartitions.length > 0) assignedAfterMs = performance.now() - joinedAt;
            if (assignedAfterMs >= 0 && performance.now() - joinedAt > assignedAfterMs + 10_000) break;
          }
          await newcomer;
          flowing = false;
          await steady;
          result.join = { longestPauseMs: Math.round(longestPauseMs), assignedAfterMs: Math.round(assignedAfterMs) };
        }
        results.push(result);
        print(
          `${count} instance(s): ${result.events} events in ${result.seconds} s = ${result.eventsPerSec} events/s, ${result.cpuSeconds} CPU-s = ${result.eventsPerCpuSecond} events/CPU-s` +
            (result.join ? `; one more joining: longest pause ${result.join.longestPauseMs} ms, assigned after ${result.join.assignedAfterMs} ms` : ''),
        );
      } finally {
        for (const service of instances) service.child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        await admin.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`).catch(() => {});
      }
    }
  } finally {
    await producer.disconnect();
    await admin.end();
    await kafka.stop();
  }
  return results;
}
