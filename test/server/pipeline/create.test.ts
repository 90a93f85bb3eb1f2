import { describe, expect, it } from 'vitest';
import type { AttributorJSON } from '../../../detectors/attribution/engine.ts';
import { ALERT_THRESHOLD } from '../../../detectors/index.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS, type Pipeline } from '../../../server/pipeline/pipeline.ts';
import type { Alert } from '../../../contract/alert.ts';
import { aChange, metricRecords, stepSeries, T0 } from '../../support/factories.ts';

const attributorOf = (pipeline: Pipeline) => pipeline.snapshot().attributor as AttributorJSON;

function run(pipeline: Pipeline, records: Parameters<Pipeline['ingest']>[0][]): Alert[] {
  return records.flatMap((r) => pipeline.ingest(r).alerts);
}

describe('createPipeline', () => {
  it('gives attribution the alert threshold, by default ALERT_THRESHOLD', () => {
    expect(DEFAULT_PIPELINE_OPTIONS.alertThreshold).toBe(ALERT_THRESHOLD);
    expect(attributorOf(createPipeline(DEFAULT_PIPELINE_OPTIONS)).options.anomalyScore).toBe(ALERT_THRESHOLD);
  });

  it('passes a configured pipeline.alertThreshold and defaultEnvironment on to attribution, also when restoring a checkpoint', () => {
    const pipeline = createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, alertThreshold: 0.8, defaultEnvironment: 'production' });
    pipeline.ingest({ metric: { service: 'checkout', metric: 'latency_p99', value: 100, timestamp: T0 } });
    const attributor = attributorOf(pipeline);
    expect(attributor.options).toMatchObject({ anomalyScore: 0.8, defaultEnvironment: 'production' });
    expect(attributor.series.map((s) => s.scope)).toEqual(['production']);
    expect(pipeline.snapshot().series.map((s) => s.environment)).toEqual(['production']);

    // The configuration of the restart wins over the one the checkpoint was written under.
    const snapshot = JSON.parse(JSON.stringify(pipeline.snapshot()));
    const restored = createPipeline({ ...DEFAULT_PIPELINE_OPTIONS, alertThreshold: 0.7, defaultEnvironment: 'production' }, [], snapshot);
    expect(attributorOf(restored).options.anomalyScore).toBe(0.7);
  });

  it('attributes a staging anomaly to the staging deploy, from staging telemetry only', () => {
    const pipeline = createPipeline(DEFAULT_PIPELINE_OPTIONS);
    const staging = stepSeries({ normal: 200, anomalous: 20 }).map((p) => ({ ...p, tags: { environment: 'staging' } }));
    const prod = stepSeries({ normal: 200, anomalous: 20, factor: 1 });
    const onset = staging[200]!.timestamp;
    const deploys = [
      { change: aChange({ id: 'chg-prod', environment: 'prod', timestamp: onset - 120_000 }) },
      { change: aChange({ id: 'chg-staging', environment: 'staging', timestamp: onset - 120_000 }) },
    ];
    const points = metricRecords([...prod, ...staging].sort((a, b) => a.timestamp - b.timestamp));
    const cut = points.findIndex((r) => 'metric' in r && r.metric.timestamp >= onset - 120_000);
    const alerts = run(pipeline, [...points.slice(0, cut), ...deploys, ...points.slice(cut)]);
    expect(alerts.length).toBeGreaterThan(0);
    expect(new Set(alerts.map((a) => a.environment))).toEqual(new Set(['staging']));
    expect(alerts[0]!.suspects.map((s) => s.changeId)).toEqual(['chg-staging']);
    expect(attributorOf(pipeline).series.map((s) => s.scope)).toEqual(['prod', 'staging']);
  });
});
