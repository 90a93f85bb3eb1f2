/** Both checkpoint stores capture the checkpoint when `save` is called: ingest keeps processing while it is written. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Checkpoint, CheckpointStore } from '../../../server/ingest/checkpoint.ts';
import { FileCheckpointStore } from '../../../server/ingest/file-checkpoint.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { storeCheckpoints } from '../../../server/service.ts';
import { STORE_BACKENDS } from '../store/backends.ts';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A checkpoint with some real state: a pipeline that has seen a few points. */
function aCheckpoint(): Checkpoint {
  const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
  for (let i = 0; i < 50; i++) pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_p99', value: 100 + (i % 7), timestamp: Date.UTC(2026, 2, 1) + i * 10_000 } });
  return { state: pipeline.snapshot(), offsets: { 'changewatch.telemetry:0': '50' } };
}

async function expectCapturedAtCall(checkpoints: CheckpointStore): Promise<void> {
  const checkpoint = aCheckpoint();
  const expected = structuredClone(checkpoint);
  const writing = checkpoints.save(checkpoint);
  // What ingest does meanwhile: the state and offsets move on before the write completes.
  checkpoint.offsets['changewatch.telemetry:0'] = '999';
  checkpoint.state.series.length = 0;
  await writing;
  expect(await checkpoints.load()).toEqual(expected);
}

describe('checkpoint stores', () => {
  it('the file store keeps the checkpoint as it was when save was called', async () => {
    await expectCapturedAtCall(new FileCheckpointStore(mkdtempSync(path.join(tmpdir(), 'cw-ckpt-')), 'group'));
  });

  it.each(STORE_BACKENDS)('the $name store keeps the checkpoint as it was when save was called', async (backend) => {
    const database = await backend.create();
    cleanup.push(() => database.cleanup());
    const store = await database.open();
    cleanup.push(() => store.close());
    await expectCapturedAtCall(storeCheckpoints(store, 'group'));
  });
});
