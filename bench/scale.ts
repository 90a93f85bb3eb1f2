/**
 * `npm run bench:scale`: what partition-owned state costs as the number of series grows. For each
 * size (default 10k and 100k series; `--series 10000,100000,1000000`), a pipeline is fed `--points`
 * points per series spread over four shards (Kafka partitions), then:
 * - events/s of that feeding (the pipeline alone, one thread), RSS, and heap per series;
 * - bytes per series in a checkpoint (the series' row: detector, alert state, attribution samples);
 * - the time of a full checkpoint of every shard into the file store (the embedded setup's), and of
 *   an incremental one after 1 % of the series got a point;
 * - the time to restore all four shards into a fresh pipeline (what a new owner does on assignment).
 * `--postgres URL` writes and restores through PostgreSQL instead (in a throwaway schema).
 *
 * Then several instances on one stream (bench/scale-instances.ts): `--instances 1,2,3` processes
 * in one group over PostgreSQL (`--postgres URL`, default the local test database), with
 * `--instance-series` series of `--instance-points` points: aggregate events/s, events per
 * CPU-second and the pause of a rebalance; `--instances ''` skips it. The handover after a SIGKILL
 * is covered by test/acceptance/partition-handover.test.ts. Ends with one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { CheckpointStore, PartitionSave } from '../server/ingest/checkpoint.ts';
import { FileCheckpointStore } from '../server/ingest/file-checkpoint.ts';
import { createPipeline } from '../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS, type Pipeline } from '../server/pipeline/pipeline.ts';
import { quoteIdentifier } from '../server/store/postgres-database.ts';
import { Store } from '../server/store/store.ts';
import { storeCheckpoints } from '../server/service.ts';
import { benchInstances } from './scale-instances.ts';

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '10000,100000' },
    points: { type: 'string', default: '60' },
    postgres: { type: 'string' },
    instances: { type: 'string', default: '1,2,3' },
    'instance-series': { type: 'string', default: '1000' },
    'instance-points': { type: 'string', default: '120' },
  },
});
const sizes = values.series.split(',').filter(Boolean).map(Number);
const pointsPerSeries = Number(values.points);
const SHARDS = ['bench.telemetry:0', 'bench.telemetry:1', 'bench.telemetry:2', 'bench.telemetry:3'];
const METRICS = ['latency_p99', 'error_rate', 'requests_per_sec', 'cpu_utilization'];
const T0 = Date.UTC(2026, 0, 5);
const STEP_MS = 30_000;

/** A checkpoint store for one run, and how to throw it away. */
async function openStore(): Promise<{ store: CheckpointStore; close(): Promise<void> }> {
  if (values.postgres) {
    const schema = `cw_bench_scale_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: values.postgres });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    const store = await Store.open({ databaseUrl: values.postgres, schema });
    return {
      store: storeCheckpoints(store, 'bench'),
      async close() {
        await store.close();
        await admin.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`);
        await admin.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-bench-scale-'));
  return { store: new FileCheckpointStore(dir, 'bench'), close: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Series `i`: one of four metrics of service `svc-<i/4>`, on the shard its service hashes to. */
function seriesOf(i: number): { service: string; metric: string; shard: string } {
  const serviceIndex = Math.floor(i / METRICS.length);
  return { service: `svc-${serviceIndex}`, metric: METRICS[i % METRICS.length]!, shard: SHARDS[serviceIndex % SHARDS.length]! };
}

/** A plausible value of `metric` at point `k` (noisy, with a daily swing). */
function valueOf(metric: string, i: number, k: number): number {
  const noise = Math.sin(i * 12.9898 + k * 78.233) * 0.03;
  const daily = Math.sin((2 * Math.PI * k * STEP_MS) / 86_400_000) * 0.1;
  const base = metric === 'error_rate' ? 0.01 : metric === 'latency_p99' ? 200 : metric === 'cpu_utilization' ? 0.5 : 1_000;
  return base * (1 + daily + noise);
}

/** Feeds every series `count` points from point `from`, time-ordered across series; returns events/s. */
function feed(pipeline: Pipeline, n: number, from: number, count: number): number {
  const started = process.hrtime.bigint();
  for (let k = from; k < from + count; k++) {
    for (let i = 0; i < n; i++) {
      const { service, metric, shard } = seriesOf(i);
      pipeline.ingest({ metric: { service, metric, timestamp: T0 + k * STEP_MS + (i % 1000), value: valueOf(metric, i, k), ...(metric === 'error_rate' ? { count: 2_000 } : {}) } }, shard);
    }
  }
  return (n * count) / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Takes every shard's changes (all series when `all`) and saves them; returns ms, bytes and rows written. */
async function checkpoint(pipeline: Pipeline, store: CheckpointStore, offset: number, all: boolean): Promise<{ ms: number; bytes: number; rows: number }> {
  const started = performance.now();
  const saves: PartitionSave[] = SHARDS.map((shard) => {
    const [topic, partition] = shard.split(':') as [string, string];
    return { topic, partition: Number(partition), offset: String(offset), ...pipeline.shardChanges(shard, all) };
  });
  await store.save(saves);
  const ms = performance.now() - started;
  let bytes = 0;
  let rows = 0;
  for (const save of saves) for (const { state } of save.upserts) (bytes += state.length), rows++;
  return { ms, bytes, rows };
}

const MB = 1024 * 1024;
const results: Array<Record<string, number>> = [];
for (const n of sizes) {
  const { store, close } = await openStore();
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let pipeline: Pipeline | undefined = createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, maxSeries: n });
  const eventsPerSec = feed(pipeline, n, 0, pointsPerSeries);
  globalThis.gc?.();
  const heapPerSeries = (process.memoryUsage().heapUsed - heapBefore) / n;
  const rssMb = process.memoryUsage().rss / MB;
  const full = await checkpoint(pipeline, store, n * pointsPerSeries, true);
  // 1 % of the series get one more point: an incremental checkpoint writes only those.
  const changedCount = Math.max(1, Math.floor(n / 100));
  for (let i = 0; i < changedCount; i++) {
    const { service, metric, shard } = seriesOf(i * 100);
    pipeline.ingest({ metric: { service, metric, timestamp: T0 + pointsPerSeries * STEP_MS + i, value: valueOf(metric, i * 100, pointsPerSeries) } }, shard);
  }
  const incremental = await checkpoint(pipeline, store, n * pointsPerSeries + changedCount, false);
  // A new owner restores into an empty process: the pipeline that wrote the checkpoint is let go first.
  pipeline = undefined;
  globalThis.gc?.();
  const restoreStarted = performance.now();
  const restored = createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, maxSeries: n });
  let restoredSeries = 0;
  for (const shard of SHARDS) {
    const [topic, partition] = shard.split(':') as [string, string];
    const state = await store.loadPartition(topic, Number(partition));
    restoredSeries += restored.importShard(shard, state?.series ?? []);
  }
  const restoreMs = performance.now() - restoreStarted;
  if (restoredSeries !== n) throw new Error(`restored ${restoredSeries} series of ${n}`);
  const result = {
    series: n,
    eventsPerSec: Math.round(eventsPerSec),
    rssMb: Math.round(rssMb),
    rssGrowthMb: Math.round((rssMb * MB - rssBefore) / MB),
    heapBytesPerSeries: Math.round(heapPerSeries),
    checkpointBytesPerSeries: Math.round(full.bytes / full.rows),
    fullCheckpointMs: Math.round(full.ms),
    incrementalRows: incremental.rows,
    incrementalCheckpointMs: Math.round(incremental.ms),
    restoreMs: Math.round(restoreMs),
  };
  results.push(result);
  console.log(
    `${n} series: ${result.eventsPerSec} events/s, RSS ${result.rssMb} MB, heap ${result.heapBytesPerSeries} B/series, checkpoint ${result.checkpointBytesPerSeries} B/series, ` +
      `full checkpoint ${result.fullCheckpointMs} ms, incremental (${incremental.rows} series) ${result.incrementalCheckpointMs} ms, restore ${result.restoreMs} ms`,
  );
  await close();
}
const counts = values.instances.split(',').filter(Boolean).map(Number);
const instances = counts.length
  ? await benchInstances(
      { counts, databaseUrl: values.postgres ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', series: Number(values['instance-series']), points: Number(values['instance-points']) },
      (line) => console.log(line),
    )
  : [];
console.log(JSON.stringify({ scale: { store: values.postgres ? 'postgres' : 'file', pointsPerSeries, results, instances } }));
