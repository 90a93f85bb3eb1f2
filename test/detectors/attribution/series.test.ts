import { describe, expect, it } from 'vitest';
import { createAttributor, restoreAttributor, type AnomalyContext, type Attributor } from '../../../detectors/attribution/index.ts';
import type { AttributorJSON, AttributorJSONVersion1 } from '../../../detectors/attribution/engine.ts';
import { seriesKey } from '../../../detectors/series-key.ts';
import type { ChangeEvent } from '../../../contract/events.ts';
import { Random } from '../../../tooling/sim/random.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12);
const STEP = 10_000;

function deploy(id: string, environment: string): ChangeEvent {
  return { id, type: 'deploy', service: 'checkout', environment, timestamp: T0 - 5 * MINUTE, author: { type: 'human', name: 'alice' } };
}

/** An hour of checkout error_rate around 1 %, and from T0 on 10 % where `steps` says so (score 0.9 there, 0.05 elsewhere). */
function feed(engine: Attributor, tags: Record<string, string> | undefined, steps: boolean, seed: number): void {
  const random = new Random(seed);
  for (let t = T0 - 60 * MINUTE; t <= T0 + 10 * MINUTE; t += STEP) {
    const broken = steps && t >= T0;
    const value = (broken ? 0.1 : 0.01) * (1 + 0.1 * random.normal());
    engine.observePoint({ service: 'checkout', metric: 'error_rate', value, count: 1000, timestamp: t, ...(tags ? { tags } : {}) }, broken ? 0.9 : 0.05);
  }
}

function anomaly(environment: string, extra: Partial<AnomalyContext> = {}): AnomalyContext {
  return { service: 'checkout', environment, metric: 'error_rate', onset: T0, now: T0 + 5 * MINUTE, observed: 0.1, expected: 0.01, score: 0.9, ...extra };
}

const evidenceOf = (engine: Attributor, context: AnomalyContext, changeId: string) => engine.attribute(context).suspects.find((s) => s.changeId === changeId)?.evidence.join(' | ') ?? '';

describe('series', () => {
  /** Prod stays flat; staging steps up after its deploy; both environments deployed at the same time. */
  function prodAndStaging(): Attributor {
    const engine = createAttributor({ minConfidence: 0 });
    engine.observeService({ name: 'checkout', dependsOn: [] });
    engine.observeChange(deploy('prod-deploy', 'prod'));
    engine.observeChange(deploy('staging-deploy', 'staging'));
    feed(engine, undefined, false, 1);
    feed(engine, { environment: 'staging' }, true, 2);
    return engine;
  }

  it('tracks prod and staging of one service and metric apart', () => {
    const json = prodAndStaging().toJSON() as AttributorJSON;
    expect(json.series.map(({ service, metric, scope }) => [service, metric, scope])).toEqual([
      ['checkout', 'error_rate', 'prod'],
      ['checkout', 'error_rate', 'staging'],
    ]);
  });

  it("reads a staging step as staging's before/after evidence only, never prod's", () => {
    const engine = prodAndStaging();
    const staging = anomaly('staging', { series: seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'staging' }) });
    expect(engine.attribute(staging).suspects.map((s) => s.changeId)).toEqual(['staging-deploy']);
    expect(evidenceOf(engine, staging, 'staging-deploy')).toContain('error_rate of checkout is higher after the change than before');
    // Without a series key the environment's series without tags is read: the same one.
    expect(engine.attribute(anomaly('staging'))).toEqual(engine.attribute(staging));

    const prod = anomaly('prod', { observed: 0.012 });
    expect(engine.attribute(prod).suspects.map((s) => s.changeId)).toEqual(['prod-deploy']);
    expect(evidenceOf(engine, prod, 'prod-deploy')).not.toContain('higher after the change');
  });

  it('tracks series split by tags apart, and reads a service without that split by its totals', () => {
    const engine = createAttributor({ minConfidence: 0 });
    engine.observeService({ name: 'checkout', dependsOn: [] });
    engine.observeChange(deploy('eu-deploy', 'prod'));
    feed(engine, undefined, false, 1);
    feed(engine, { region: 'eu', version: 'v1' }, true, 2);
    const eu = anomaly('prod', { series: seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { region: 'eu' } }) });
    expect(evidenceOf(engine, eu, 'eu-deploy')).toContain('higher after the change');
    expect(evidenceOf(engine, anomaly('prod', { observed: 0.012 }), 'eu-deploy')).not.toContain('higher after the change');
    // A region the service never reported on its own: its totals are what there is.
    const us = anomaly('prod', { observed: 0.012, series: seriesKey({ service: 'checkout', metric: 'error_rate', environment: 'prod', tags: { region: 'us' } }) });
    expect(evidenceOf(engine, us, 'eu-deploy')).toBe(evidenceOf(engine, anomaly('prod', { observed: 0.012 }), 'eu-deploy'));
  });

  it('restores a version 1 state (tracks per service and metric) as the default environment, stickiness included', () => {
    const engine = createAttributor();
    engine.observeService({ name: 'checkout', dependsOn: [] });
    engine.observeChange(deploy('chg-1', 'prod'));
    feed(engine, undefined, true, 1);
    engine.attribute(anomaly('prod'));
    const json = JSON.parse(JSON.stringify(engine.toJSON())) as AttributorJSON;
    expect(json.previousTop).toEqual([[`checkout\u0000error_rate\u0000prod\u0000${T0}`, 'chg-1']]);
    const version1: AttributorJSONVersion1 = {
      ...json,
      version: 1,
      series: json.series.map(({ service, metric, track }) => ({ service, metric, track })),
      previousTop: [[`checkout\u0000error_rate\u0000${T0}`, 'chg-1']],
    };
    const restored = restoreAttributor(version1);
    expect(restored.toJSON()).toEqual(json);
    expect(restored.attribute(anomaly('prod'))).toEqual(engine.attribute(anomaly('prod')));
  });
});

describe('anomaly score', () => {
  /** Episodes of a series whose points score 0.6 from T0 on. */
  const episodes = (engine: Attributor) => {
    for (let t = T0 - 10 * MINUTE; t <= T0 + 2 * MINUTE; t += STEP) engine.observePoint({ service: 'checkout', metric: 'error_rate', value: t >= T0 ? 0.05 : 0.01, timestamp: t }, t >= T0 ? 0.6 : 0.05);
    return (engine.toJSON() as AttributorJSON).series[0]!.track.episodes.length;
  };

  it('counts points at or above anomalyScore as anomalous, ALERT_THRESHOLD (0.5) by default', () => {
    expect(episodes(createAttributor())).toBe(1);
    expect(episodes(createAttributor({ anomalyScore: 0.8 }))).toBe(0);
  });

  it('takes the options given on restore over the saved ones', () => {
    const saved = createAttributor().toJSON();
    const restored = restoreAttributor(saved, { anomalyScore: 0.8, defaultEnvironment: 'production' }).toJSON() as AttributorJSON;
    expect(restored.options).toMatchObject({ anomalyScore: 0.8, defaultEnvironment: 'production' });
  });
});
