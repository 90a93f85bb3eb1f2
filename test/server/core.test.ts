import { describe, expect, it } from 'vitest';
import { createDefaultDetector, restoreDetector } from '../../detectors/index.ts';
import { Changewatch } from '../../server/core.ts';
import type { Alert } from '../../contract/alert.ts';
import { isFromFleet, type Emission, type EmissionSink } from '../../server/emission.ts';
import { createError } from '../../server/errors.ts';
import { DEFAULT_PIPELINE_OPTIONS, Pipeline, type DetectorFactory } from '../../server/pipeline/pipeline.ts';
import { aChange, aPoint, httpDeadLetterOf, metricRecords, stepSeries } from '../support/factories.ts';
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

/** A sink that keeps every emission it hears. */
function recordingSink(): EmissionSink & { heard: Emission[] } {
  const heard: Emission[] = [];
  return { name: 'recorder', heard, accept: (emission) => void heard.push(emission) };
}

describe('Changewatch core', () => {
  it('absorbs what another instance produced: its alerts join the latest (newest wins) and sinks hear it marked as the fleet\'s', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const sink = recordingSink();
    core.addSink(sink);
    const alert = { ...(core.alerts.list()[0] ?? {}), id: 'alrt-remote', status: 'firing', service: 'search', updatedAt: '2026-03-02T10:01:00.000Z' } as Alert;
    core.absorbFleet({ alerts: [alert] });
    core.absorbFleet({ alerts: [{ ...alert, status: 'resolved', updatedAt: '2026-03-02T10:00:00.000Z' }] });
    expect(core.alerts.get('alrt-remote')).toMatchObject({ status: 'firing' });
    expect(sink.heard.map((emission) => [emission.origin, emission.alerts.length])).toEqual([['fleet', 1], ['fleet', 1]]);
    expect(isFromFleet(sink.heard[0]!)).toBe(true);
    // A person acknowledged it here: its further fleet emissions say so too.
    core.acknowledge(['alrt-remote']);
    core.absorbFleet({ alerts: [{ ...alert, updatedAt: '2026-03-02T10:02:00.000Z' }] });
    expect(core.alerts.get('alrt-remote')).toMatchObject({ status: 'acknowledged' });
  });

  it('answers each record with one emission, which every sink hears, and keeps the latest version of each alert', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const first = recordingSink();
    const second = recordingSink();
    core.addSink(first);
    core.addSink(second);
    const answers = [core.handle({ change: aChange() }, httpDeadLetterOf()), ...metricRecords(stepSeries({ normal: 200, anomalous: 5 })).map((record) => core.handle(record, httpDeadLetterOf()))];
    const nonEmpty = answers.filter((answer) => answer.alerts.length || answer.changes.length);
    expect(first.heard).toEqual(nonEmpty);
    expect(second.heard).toEqual(nonEmpty);
    expect(first.heard.flatMap((e) => e.changes.map((c) => c.id))).toEqual(['chg-1']);
    const alerts = first.heard.flatMap((e) => e.alerts);
    expect(alerts.length).toBeGreaterThan(0);
    expect(core.alerts.list().map((a) => a.id)).toEqual([alerts[0]!.id]);
    expect(core.stats(true)).toMatchObject({ eventsProcessed: 206, deadLettered: 0, alertsFiring: 1, alertsAcknowledged: 0, kafkaConnected: true });
  });

  it('emits acknowledged alerts, and later emissions of them, to every sink', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const sink = recordingSink();
    core.addSink(sink);
    for (const record of metricRecords(stepSeries({ normal: 200, anomalous: 5 }))) core.handle(record, httpDeadLetterOf());
    const id = sink.heard.flatMap((e) => e.alerts)[0]!.id;
    sink.heard.length = 0;
    core.acknowledge([id]);
    expect(sink.heard.map((e) => e.alerts.map((a) => [a.id, a.status]))).toEqual([[[id, 'acknowledged']]]);
    expect(core.alerts.get(id)?.status).toBe('acknowledged');
    // The header's "Firing" counts what GET /api/v1/alerts?status=firing returns: not the acknowledged one.
    expect(core.stats(true)).toMatchObject({ alertsFiring: 0, alertsAcknowledged: 1 });
  });

  it('turns an exception on one event into a CW_INTERNAL dead letter and keeps going', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    const sink = recordingSink();
    core.addSink(sink);
    const answer = core.handle({ metric: aPoint({ value: 666 }) }, httpDeadLetterOf('{"value":666}'));
    expect(answer.deadLetters.map((d) => [d.error.code, (d.error.cause as Error).message, d.original])).toEqual([['CW_INTERNAL', 'boom', '{"value":666}']]);
    expect(sink.heard).toEqual([answer]);
    expect(core.handle({ metric: aPoint({ value: 0.01, timestamp: aPoint().timestamp + 1 }) }, httpDeadLetterOf()).deadLetters).toEqual([]);
    expect(core.stats(false).deadLettered).toBe(1);
  });

  it('counts rejections from the edges and emits them; a sink that throws does not keep the emission from the others', () => {
    const core = new Changewatch(new Pipeline(buggyDetectors, new LatestChangeAttributor(), DEFAULT_PIPELINE_OPTIONS));
    core.addSink({ name: 'broken', accept: () => { throw new Error('sink bug'); } });
    const sink = recordingSink();
    const remove = core.addSink(sink);
    core.reject({ error: createError('CW_EVENT_SCHEMA', 'bad'), original: '{}', source: { kind: 'http', index: 0 } });
    expect(sink.heard.map((e) => e.deadLetters.map((d) => d.error.code))).toEqual([['CW_EVENT_SCHEMA']]);
    expect(core.stats(false).deadLettered).toBe(1);
    remove();
    core.publishIncident({ id: 'inc-1' } as never);
    expect(sink.heard).toHaveLength(1);
  });
});
