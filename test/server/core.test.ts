import { describe, expect, it } from 'vitest';
import { createDefaultDetector, restoreDetector } from '../../detectors/index.ts';
import type { Alert } from '../../contract/alert.ts';
import { Changewatch, type DeadLetter } from '../../server/core.ts';
import { createError } from '../../server/errors.ts';
import { DEFAULT_PIPELINE_OPTIONS, Pipeline, type DetectorFactory } from '../../server/pipeline/pipeline.ts';
import { aChange, aPoint, metricRecords, stepSeries } from '../support/factories.ts';
import { LatestChangeAttributor } from '../support/latest-change-attributor.ts';

/** The default detector, except that it throws on the value 666: a stand-in for a bug. */
const buggyDetectors: DetectorFactory = {
  create: (hints) => {
    const detector = createDefaultDetector(hints);
    return {
      method: detector.method,
      toJSON: () => detector.toJSON(),
      update: (point) => {
        if (point.value === 666) throw new Error('boom');
        return detector.update(point);
      },
    };
  },
  restore: restoreDetector,
};

describe('Changewatch core', () => {
  it('publishes changes and alert emissions and keeps the latest version of each alert', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const alerts: Alert[] = [];
    const changes: string[] = [];
    core.on('alert', (a) => alerts.push(a));
    core.on('change', (c) => changes.push(c.id));
    core.handle({ change: aChange() });
    for (const record of metricRecords(stepSeries({ normal: 200, anomalous: 5 }))) core.handle(record);
    expect(changes).toEqual(['chg-1']);
    expect(alerts.length).toBeGreaterThan(0);
    expect(core.alerts.list().map((a) => a.id)).toEqual([alerts[0]!.id]);
    expect(core.stats(true)).toMatchObject({ eventsProcessed: 206, deadLettered: 0, alertsFiring: 1, kafkaConnected: true });
  });

  it('turns an exception on one event into a CW_INTERNAL rejection and keeps going', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const result = core.handle({ metric: aPoint({ value: 666 }) });
    expect(result.rejected?.code).toBe('CW_INTERNAL');
    expect((result.rejected?.cause as Error).message).toBe('boom');
    expect(core.handle({ metric: aPoint({ value: 0.01, timestamp: aPoint().timestamp + 1 }) }).rejected).toBeUndefined();
  });

  it('counts rejections and tells subscribers', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const seen: DeadLetter[] = [];
    core.on('deadletter', (d) => seen.push(d));
    core.reject({ error: createError('CW_EVENT_SCHEMA', 'bad'), original: '{}', source: { kind: 'http', index: 0 } });
    expect(seen).toHaveLength(1);
    expect(core.stats(false).deadLettered).toBe(1);
  });
});
