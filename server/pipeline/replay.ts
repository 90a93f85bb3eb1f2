/**
 * Replay: runs recorded events through the same pipeline as the live service, in memory, and
 * returns every alert emission. Deterministic: the same input gives the same output, byte for byte.
 */
import type { ServiceEntry } from '../../contract/events.ts';
import type { Alert } from '../../contract/alert.ts';
import type { ReplayRecord } from '../wire/schemas.ts';
import { createPipeline } from './create.ts';
import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions } from './pipeline.ts';

/** Options of a replay: pipeline tunables and the service catalog from the config file. */
export interface ReplayOptions {
  pipeline?: Partial<PipelineOptions>;
  services?: readonly ServiceEntry[];
}

/** Replays records (in event-time order) and returns every alert emission in order. */
export function replayRecords(records: Iterable<ReplayRecord>, options: ReplayOptions = {}): Alert[] {
  const pipeline = createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, ...options.pipeline }, options.services ?? []);
  const alerts: Alert[] = [];
  for (const record of records) alerts.push(...pipeline.ingest(record).alerts);
  return alerts;
}
