import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAttributor, type AnomalyContext } from '../../../detectors/attribution/index.ts';
import { AUTHOR_TYPES, CHANGE_TYPES, type ChangeEvent } from '../../../contract/events.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12);

function change(id: string, service: string, at: number, extra: Partial<ChangeEvent> = {}): ChangeEvent {
  return { id, type: 'deploy', service, environment: 'prod', timestamp: at, author: { type: 'ai_agent', name: 'devin', agent: 'devin' }, ...extra };
}

function anomaly(service: string, extra: Partial<AnomalyContext> = {}): AnomalyContext {
  return { service, metric: 'error_rate', onset: T0, now: T0 + 5 * MINUTE, observed: 0.2, expected: 0.01, score: 0.9, ...extra };
}

describe('bad input', () => {
  it('attributes on a service the catalog does not know, penalizing changes it cannot relate', () => {
    const engine = createAttributor();
    engine.observeChange(change('own', 'mystery', T0 - 5 * MINUTE));
    engine.observeChange(change('elsewhere', 'other', T0 - 2 * MINUTE));
    const result = engine.attribute(anomaly('mystery'));
    expect(result.suspects[0]!.changeId).toBe('own');
    const elsewhere = result.suspects.find((s) => s.changeId === 'elsewhere');
    expect(elsewhere?.evidence.join(' ')).toContain('the catalog shows no dependency path to mystery');
  });

  it('handles changes without versions, diffs or reviewers', () => {
    const engine = createAttributor();
    engine.observeService({ name: 'api', dependsOn: [] });
    engine.observeChange({ id: 'bare', type: 'config', service: 'api', environment: 'prod', timestamp: T0 - MINUTE, author: { type: 'human', name: 'x' } });
    for (let t = T0 - 30 * MINUTE; t < T0 + 5 * MINUTE; t += 10_000) engine.observePoint({ service: 'api', metric: 'error_rate', value: t < T0 ? 0.01 : 0.2, timestamp: t, tags: { version: 'v1' } }, t < T0 ? 0 : 0.9);
    const result = engine.attribute(anomaly('api'));
    expect(result.suspects[0]!.changeId).toBe('bare');
    expect(result.suspects[0]!.change).not.toHaveProperty('version');
  });

  it('survives cycles in the dependency graph', () => {
    const engine = createAttributor();
    engine.observeService({ name: 'a', dependsOn: ['b'] });
    engine.observeService({ name: 'b', dependsOn: ['c'] });
    engine.observeService({ name: 'c', dependsOn: ['a', 'c'] });
    engine.observeChange(change('on-c', 'c', T0 - 3 * MINUTE));
    const result = engine.attribute(anomaly('a'));
    expect(result.suspects.map((s) => s.changeId)).toEqual(['on-c']);
    expect(result.suspects[0]!.evidence.join(' ')).toContain('a dependency 2 hops away of a');
  });

  it('takes the latest catalog entry of a service, dropping the edges of the previous one', () => {
    const engine = createAttributor();
    engine.observeService({ name: 'web', dependsOn: ['old-backend'] });
    engine.observeService({ name: 'web', dependsOn: ['new-backend'] });
    engine.observeService({ name: 'old-backend', dependsOn: [] });
    engine.observeService({ name: 'new-backend', dependsOn: [] });
    engine.observeChange(change('web-deploy', 'web', T0 - 3 * MINUTE));
    // web no longer calls old-backend, so its change is not a caller's change there.
    expect(engine.attribute(anomaly('old-backend')).suspects).toEqual([]);
    expect(engine.attribute(anomaly('new-backend')).suspects[0]?.evidence.join(' ') ?? '').toContain("a caller's change rarely breaks its dependency");
  });

  it('tolerates clock skew: a change stamped shortly after the onset still counts, one long after does not', () => {
    const engine = createAttributor();
    engine.observeService({ name: 'api', dependsOn: [] });
    engine.observeChange(change('skewed', 'api', T0 + 40_000));
    engine.observeChange(change('after', 'api', T0 + 10 * MINUTE));
    const result = engine.attribute(anomaly('api', { now: T0 + 12 * MINUTE }));
    expect(result.suspects.map((s) => s.changeId)).toEqual(['skewed']);
    expect(result.suspects[0]!.evidence.join(' ')).toContain('stamped 40 s after the onset, within clock-skew tolerance');
  });

  it('forgets changes after a day of event time, but a point stamped far in the future does not wipe them', () => {
    const engine = createAttributor();
    engine.observeChange(change('old', 'api', T0 - 30 * 3_600_000));
    engine.observeChange(change('recent', 'api', T0 - MINUTE));
    engine.observePoint({ service: 'api', metric: 'error_rate', value: 0.1, timestamp: T0 }, 0);
    expect(engine.recentChanges(10).map((c) => c.id)).toEqual(['recent']);
    engine.observePoint({ service: 'api', metric: 'error_rate', value: 0.1, timestamp: Date.UTC(2099, 0, 1) }, 0);
    expect(engine.recentChanges(10).map((c) => c.id)).toEqual(['recent']);
  });

  it('ignores changes from another environment', () => {
    const engine = createAttributor();
    engine.observeChange(change('staging-only', 'api', T0 - MINUTE, { environment: 'staging' }));
    expect(engine.attribute(anomaly('api', { environment: 'prod' })).suspects).toEqual([]);
  });

  it('ignores points and contexts with non-finite numbers', () => {
    const engine = createAttributor();
    engine.observePoint({ service: 'api', metric: 'error_rate', value: NaN, timestamp: T0 }, 0.9);
    engine.observePoint({ service: 'api', metric: 'error_rate', value: 1, timestamp: Infinity }, NaN);
    engine.observeChange(change('c', 'api', T0 - MINUTE));
    const result = engine.attribute(anomaly('api', { onset: NaN, now: NaN, observed: Infinity, expected: NaN }));
    expect(result.noChangeConfidence).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(JSON.stringify(engine.toJSON()))).toBeTruthy();
  });
});

const service = fc.constantFrom('a', 'b', 'c', 'd', 'unknown');
const time = fc.integer({ min: T0 - 8 * 60 * MINUTE, max: T0 + 60 * MINUTE });
const changeArbitrary = fc.record({
  id: fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5', 'c6'),
  type: fc.constantFrom(...CHANGE_TYPES),
  service,
  environment: fc.constantFrom('prod', 'staging'),
  timestamp: time,
  version: fc.option(fc.constantFrom('v1', 'v2', 'v3'), { nil: undefined }),
  previousVersion: fc.option(fc.constantFrom('v1', 'v2', 'v3'), { nil: undefined }),
  author: fc.record({ type: fc.constantFrom(...AUTHOR_TYPES), name: fc.constantFrom('kiro', 'alice'), reviewedBy: fc.option(fc.array(fc.constantFrom('bob', 'dana'), { minLength: 1, maxLength: 2 }), { nil: undefined }) }),
  diff: fc.option(fc.record({ linesAdded: fc.nat(5000), linesRemoved: fc.nat(5000) }), { nil: undefined }),
});
const pointArbitrary = fc.record({
  service,
  metric: fc.constantFrom('error_rate', 'latency_p99', 'request_rate'),
  value: fc.oneof(fc.double({ min: -1e6, max: 1e6 }), fc.constantFrom(NaN, Infinity, 0)),
  timestamp: time,
  count: fc.option(fc.nat(10_000), { nil: undefined }),
  tags: fc.option(fc.record({ version: fc.constantFrom('v1', 'v2', 'v3') }), { nil: undefined }),
});
const event = fc.oneof(
  fc.record({ change: changeArbitrary }),
  fc.record({ point: pointArbitrary, score: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ service: fc.record({ name: service, dependsOn: fc.subarray(['a', 'b', 'c', 'd', 'unknown']) }) }),
);

describe('property: attribute never throws and returns sane confidences', () => {
  it('holds for arbitrary histories, catalogs (cycles included) and anomalies', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 120 }), service, time, fc.nat(30 * MINUTE), fc.double(), fc.double(), (events, target, onset, span, observed, expected) => {
        const engine = createAttributor();
        for (const e of events) {
          if ('change' in e) engine.observeChange(e.change);
          else if ('point' in e) engine.observePoint(e.point, e.score);
          else engine.observeService(e.service);
        }
        const result = engine.attribute({ service: target, metric: 'error_rate', environment: 'prod', onset, now: onset + span, observed, expected, score: 0.8 });
        const confidences = result.suspects.map((s) => s.confidence);
        for (const c of [...confidences, result.noChangeConfidence]) {
          expect(c).toBeGreaterThanOrEqual(0);
          expect(c).toBeLessThanOrEqual(1);
        }
        expect(confidences).toEqual([...confidences].sort((x, y) => y - x));
        expect(confidences.reduce((sum, c) => sum + c, result.noChangeConfidence)).toBeLessThanOrEqual(1.01);
        expect(new Set(result.suspects.map((s) => s.changeId)).size).toBe(result.suspects.length);
        expect(result.summary).not.toMatch(/attribution failed/);
      }),
      { numRuns: 300, seed: 20260301 },
    );
  });
});
