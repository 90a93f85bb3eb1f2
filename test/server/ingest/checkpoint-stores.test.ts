/**
 * Both checkpoint stores (files for the embedded setup, the store's tables for PostgreSQL) keep
 * partition checkpoints the same way: saves add up per partition, a save never takes a partition back
 * to an earlier offset, and an earlier build's whole-state checkpoint is read only before any partition
 * checkpoint exists.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointStore, PartitionSave } from '../../../server/ingest/checkpoint.ts';
import { FileCheckpointStore } from '../../../server/ingest/file-checkpoint.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { storeCheckpoints } from '../../../server/service.ts';
import { STORE_BACKENDS } from '../store/backends.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const TOPIC = 'changewatch.telemetry';

function save(partition: number, offset: number, upserts: Record<string, string>, deletes: string[] = []): PartitionSave {
  return { topic: TOPIC, partition, offset: String(offset), upserts: Object.entries(upserts).map(([key, state]) => ({ key, state })), deletes };
}

/** The checks every store passes; `reopen` gives a new handle on the same storage. */
async function expectPartitionCheckpoints(checkpoints: CheckpointStore, reopen: () => Promise<CheckpointStore>): Promise<void> {
  expect(await checkpoints.loadPartition(TOPIC, 0)).toBeUndefined();
  // Series states hold \u0000 (keys, detector state): they must round-trip as they are.
  const a1 = JSON.stringify({ key: 'a\u0000latency', n: 1, note: 'é ✓' });
  expect(await checkpoints.save([save(0, 10, { 'a\u0000latency': a1, b: '{"n":1}' }), save(1, 4, { c: '{"n":1}' })])).toEqual({ behind: [] });
  expect(await checkpoints.save([save(0, 25, { b: '{"n":2}' }, ['gone-never-saved'])])).toEqual({ behind: [] });
  expect(await checkpoints.save([save(0, 30, {}, ['b'])])).toEqual({ behind: [] });

  const again = await reopen();
  expect(await again.loadPartition(TOPIC, 0)).toEqual({ offset: '30', series: [a1] });
  expect(await again.loadPartition(TOPIC, 1)).toEqual({ offset: '4', series: ['{"n":1}'] });
  // Another instance that is behind (it owned partition 0 before a rebalance) cannot take it back.
  expect(await again.save([save(0, 20, { late: '{}' }), save(1, 5, { c: '{"n":2}' })])).toEqual({ behind: [`${TOPIC}:0`] });
  expect(await again.loadPartition(TOPIC, 0)).toEqual({ offset: '30', series: [a1] });
  expect(await again.loadPartition(TOPIC, 1)).toEqual({ offset: '5', series: ['{"n":2}'] });
  // An earlier build's document is not read once partition checkpoints exist.
  expect(await again.loadLegacy()).toBeUndefined();
}

describe('checkpoint stores', () => {
  it('the file store adds saves up per partition, never goes back, and survives reopening', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-ckpt-'));
    await expectPartitionCheckpoints(new FileCheckpointStore(dir, 'group'), async () => new FileCheckpointStore(dir, 'group'));
  });

  it.each(STORE_BACKENDS)('the $name store adds saves up per partition and never goes back', async (backend) => {
    const database = await backend.create();
    cleanup.push(() => database.cleanup());
    const store = await database.open();
    cleanup.push(() => store.close());
    await expectPartitionCheckpoints(storeCheckpoints(store, 'group'), async () => storeCheckpoints(store, 'group'));
    // Another group's checkpoints are its own.
    expect(await storeCheckpoints(store, 'other').loadPartition(TOPIC, 0)).toBeUndefined();
  });

  it('the file store ignores a save torn by a crash and compacts the log when it loads it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-ckpt-'));
    const checkpoints = new FileCheckpointStore(dir, 'group');
    await checkpoints.save([save(2, 10, { a: '{"n":1}', b: '{"n":1}' })]);
    await checkpoints.save([save(2, 20, { a: '{"n":2}' })]);
    const log = path.join(dir, 'group', `${TOPIC}.2.log`);
    // A save cut short: a whole line without its commit, then half a line.
    appendFileSync(log, `${JSON.stringify({ s: 'a', v: '{"n":3}' })}\n{"s":"b","v":"{\\"n`);
    const loaded = await new FileCheckpointStore(dir, 'group').loadPartition(TOPIC, 2);
    expect(loaded).toEqual({ offset: '20', series: ['{"n":2}', '{"n":1}'] });
    // Rewritten as one save: two series lines and a commit line.
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(await new FileCheckpointStore(dir, 'group').loadPartition(TOPIC, 2)).toEqual(loaded);
  });

  it("reads an earlier build's whole-state checkpoint until partition checkpoints exist", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-ckpt-'));
    const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_p99', value: 100, timestamp: Date.UTC(2026, 2, 1) } });
    const legacy = { state: pipeline.snapshot(), offsets: { [`${TOPIC}:0`]: '1' } };
    writeFileSync(path.join(dir, 'checkpoint-group.json'), JSON.stringify(legacy));
    const checkpoints = new FileCheckpointStore(dir, 'group');
    expect(await checkpoints.loadLegacy()).toEqual(JSON.parse(JSON.stringify(legacy)));
    await checkpoints.save([save(0, 5, {})]);
    expect(await checkpoints.loadLegacy()).toBeUndefined();
  });
});
