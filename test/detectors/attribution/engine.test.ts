import { describe, expect, it, vi } from 'vitest';
import { createAttributor, restoreAttributor, type AnomalyContext, type Attributor } from '../../../detectors/attribution/index.ts';
import { SampleRing } from '../../../detectors/attribution/ring.ts';
import type { ChangeEvent } from '../../../contract/events.ts';
import { Random } from '../../../tooling/sim/random.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12);
const STEP = 10_000;

function change(id: string, service: string, minutesFromT0: number, extra: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id,
    type: 'deploy',
    service,
    environment: 'prod',
    timestamp: T0 + minutesFromT0 * MINUTE,
    author: { type: 'human', name: 'alice', reviewedBy: ['bob'] },
    diff: { files: 2, linesAdded: 40, linesRemoved: 10 },
    ...extra,
  };
}

/** Feeds an error_rate series: `base` until `fromMinute`, then `level` (score 1 once it departs). */
function feedErrors(engine: Attributor, service: string, options: { fromMinute: number; base?: number; level?: number; untilMinute?: number; version?: (t: number) => string | undefined; seed?: number }): void {
  const random = new Random(options.seed ?? 1);
  const { base = 0.01, level = 0.1, untilMinute = 10 } = options;
  for (let t = T0 - 60 * MINUTE; t <= T0 + untilMinute * MINUTE; t += STEP) {
    const broken = t >= T0 + options.fromMinute * MINUTE;
    const value = (broken ? level : base) * (1 + 0.1 * random.normal());
    const version = options.version?.(t);
    engine.observePoint({ service, metric: 'error_rate', value, count: 1000, timestamp: t, ...(version ? { tags: { version } } : {}) }, broken ? 0.9 : 0.05);
  }
}

function anomaly(service: string, extra: Partial<AnomalyContext> = {}): AnomalyContext {
  return { service, environment: 'prod', metric: 'error_rate', onset: T0, now: T0 + 5 * MINUTE, observed: 0.1, expected: 0.01, score: 0.9, ...extra };
}

function shop(engine: Attributor): void {
  engine.observeService({ name: 'frontend', dependsOn: ['checkout'] });
  engine.observeService({ name: 'checkout', dependsOn: ['payments'] });
  engine.observeService({ name: 'payments', dependsOn: [] });
}

describe('timing', () => {
  it('prefers a change minutes before the onset to one hours before, and says so', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('old', 'checkout', -300));
    engine.observeChange(change('recent', 'checkout', -5));
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects[0]!.changeId).toBe('recent');
    expect(result.suspects[0]!.evidence.join(' ')).toContain('landed 5 min before the onset, a typical delay');
    // The explanation names the change by what it was when its event says (here it has no summary: its id) and who made it.
    expect(result.summary).toMatch(/^most likely the deploy recent by alice \(\d+ % likely\)$/);
    expect(result.suspects.find((s) => s.changeId === 'old')?.confidence ?? 0).toBeLessThan(0.05);
  });

  it('weighs timing over the sampling interval: at 5-minute points a change 30 s before the onset may have come after the effect began', () => {
    // Two changes on checkout, 4.5 and 0.5 minutes before the onset; which is favoured depends on how
    // well the onset is known. At 10 s points the closer one is; at 5-minute points the effect began
    // anywhere in the 5 minutes before the onset, mostly before the closer change landed.
    const ranking = (stepMs: number) => {
      const engine = createAttributor({ minConfidence: 0 });
      shop(engine);
      engine.observeChange(change('earlier', 'checkout', -4.5));
      engine.observeChange(change('closer', 'checkout', -0.5));
      const random = new Random(3);
      for (let t = T0 - 120 * MINUTE; t <= T0 + 10 * MINUTE; t += stepMs) {
        const broken = t >= T0;
        engine.observePoint({ service: 'checkout', metric: 'error_rate', value: (broken ? 0.1 : 0.01) * (1 + 0.1 * random.normal()), count: 1000, timestamp: t }, broken ? 0.9 : 0.05);
      }
      return engine.attribute(anomaly('checkout', { now: T0 + 10 * MINUTE })).suspects.map((s) => s.changeId);
    };
    expect(ranking(10_000)[0]).toBe('closer');
    expect(ranking(5 * MINUTE)[0]).toBe('earlier');
  });

  it('calls an effect delayed by hours unlikely but keeps the change as a candidate', () => {
    const engine = createAttributor({ minConfidence: 0 });
    shop(engine);
    engine.observeChange(change('old', 'checkout', -150));
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects[0]!.changeId).toBe('old');
    expect(result.suspects[0]!.evidence.join(' ')).toContain('landed 2.5 h before the onset, an effect delayed this long is unlikely');
    expect(result.noChangeConfidence).toBeGreaterThan(result.suspects[0]!.confidence);
  });

  it('ignores changes after the onset beyond clock-skew tolerance and flags those within it', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('skewed', 'checkout', 0.5));
    engine.observeChange(change('later', 'checkout', 10));
    feedErrors(engine, 'checkout', { fromMinute: 0, untilMinute: 12 });
    const result = engine.attribute(anomaly('checkout', { now: T0 + 12 * MINUTE }));
    expect(result.suspects.map((s) => s.changeId)).toEqual(['skewed']);
    expect(result.suspects[0]!.evidence.join(' ')).toContain('within clock-skew tolerance');
  });
});

describe('topology', () => {
  it('blames the broken dependency that moved first over a caller that changed closer to the onset', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('payments-deploy', 'payments', -6));
    engine.observeChange(change('frontend-deploy', 'frontend', -1));
    feedErrors(engine, 'payments', { fromMinute: -3 });
    feedErrors(engine, 'checkout', { fromMinute: 0, seed: 2 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects[0]!.changeId).toBe('payments-deploy');
    expect(result.suspects[0]!.evidence.join(' ')).toMatch(/a dependency of checkout, whose error_rate moved first/);
    const caller = result.suspects.find((s) => s.changeId === 'frontend-deploy');
    if (caller) expect(caller.evidence.join(' ')).toContain("a caller's change rarely breaks its dependency");
    expect(caller?.confidence ?? 0).toBeLessThan(0.1);
  });

  it("judges a change on an intermediate dependency as that dependency's own alert would: something below it moved first", () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('payments-deploy', 'payments', -8));
    engine.observeChange(change('checkout-deploy', 'checkout', -2));
    feedErrors(engine, 'payments', { fromMinute: -5 });
    feedErrors(engine, 'checkout', { fromMinute: -1, seed: 2 });
    feedErrors(engine, 'frontend', { fromMinute: 0, seed: 3 });
    // From the caller's alert, checkout's later change would otherwise win on timing and distance.
    const result = engine.attribute(anomaly('frontend'));
    expect(result.suspects[0]!.changeId).toBe('payments-deploy');
    const intermediate = result.suspects.find((s) => s.changeId === 'checkout-deploy');
    expect(intermediate?.evidence.join(' ') ?? '').toMatch(/payments, a dependency of checkout, moved first .*: the symptoms may have travelled up to checkout/);
    // The same verdict as checkout's own alert gives.
    expect(engine.attribute(anomaly('checkout', { onset: T0 - MINUTE })).suspects[0]!.changeId).toBe('payments-deploy');
  });

  it('discounts a change on a dependency whose own metrics did not move', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('payments-deploy', 'payments', -4));
    engine.observeChange(change('checkout-config', 'checkout', -8, { type: 'config' }));
    feedErrors(engine, 'payments', { fromMinute: 999 });
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects[0]!.changeId).toBe('checkout-config');
    const dependency = result.suspects.find((s) => s.changeId === 'payments-deploy');
    if (dependency) expect(dependency.evidence.join(' ')).toContain('whose own metrics did not move');
    expect(dependency?.confidence ?? 0).toBeLessThan(0.2);
  });
});

describe('version split', () => {
  const rollout = (t: number) => (t >= T0 - 4 * MINUTE && (t / STEP) % 2 === 0 ? 'v2.4.0' : 'v2.3.9');

  it('names the version whose error rate is many times the previous one over the same minutes', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('bad-release', 'checkout', -4, { version: 'v2.4.0', previousVersion: 'v2.3.9' }));
    engine.observeChange(change('config-after', 'checkout', -1, { type: 'config' }));
    // Only the new version's instances fail: error rate 0.1 on v2.4.0, 0.01 on v2.3.9.
    const random = new Random(3);
    for (let t = T0 - 60 * MINUTE; t <= T0 + 5 * MINUTE; t += STEP) {
      const version = rollout(t);
      const broken = version === 'v2.4.0' && t >= T0 - MINUTE;
      const value = (broken ? 0.1 : 0.01) * (1 + 0.1 * random.normal());
      engine.observePoint({ service: 'checkout', metric: 'error_rate', value, count: 500, timestamp: t, tags: { version } }, broken ? 0.9 : 0.05);
    }
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects[0]!.changeId).toBe('bad-release');
    expect(result.suspects[0]!.evidence[0]).toMatch(/^error_rate of v2\.4\.0 is \d+(\.\d)?× v2\.3\.9 over the same minutes, p < 0\.001$/);
    expect(result.suspects[0]!.confidence).toBeGreaterThan(0.8);
    // Guarded automation reads the kinds: the version split and the timing incriminate it; priors never count.
    expect(result.suspects[0]!.evidenceKinds).toEqual(expect.arrayContaining(['version_split', 'timing']));
    expect(result.suspects[0]!.evidenceKinds).not.toContain('prior');
  });

  it('clears a new version that performs like the previous one', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('fine-release', 'checkout', -4, { version: 'v2.4.0', previousVersion: 'v2.3.9' }));
    const random = new Random(4);
    for (let t = T0 - 60 * MINUTE; t <= T0 + 5 * MINUTE; t += STEP) {
      const broken = t >= T0;
      const value = (broken ? 0.1 : 0.01) * (1 + 0.1 * random.normal());
      engine.observePoint({ service: 'checkout', metric: 'error_rate', value, count: 500, timestamp: t, tags: { version: rollout(t) } }, broken ? 0.9 : 0.05);
    }
    const result = engine.attribute(anomaly('checkout'));
    const suspect = result.suspects.find((s) => s.changeId === 'fine-release');
    if (suspect) expect(suspect.evidence.join(' ')).toContain('the new version is not what broke');
    expect(suspect?.confidence ?? 0).toBeLessThan(0.5);
    expect(result.noChangeConfidence).toBeGreaterThan(0.5);
  });
});

describe('explanation', () => {
  it('names the likely change by what it was, its version and who made it, with its likelihood in words', () => {
    const engine = createAttributor();
    shop(engine);
    const agent = { type: 'ai_agent' as const, name: 'kiro', agent: 'kiro' };
    engine.observeChange(change('chg-7', 'checkout', -3, { author: agent, summary: 'Add retries to the order client', version: 'v2.19.2' }));
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    expect(engine.attribute(anomaly('checkout')).summary).toMatch(/^most likely the deploy 'Add retries to the order client' \(v2\.19\.2\) by AI agent kiro \(\d+ % likely\)$/);
  });
});

describe('before/after', () => {
  it("carries the change's pull request and commit links to its suspect", () => {
    const engine = createAttributor();
    shop(engine);
    const links = { pr: 'https://git.example/shop/pull/42', commit: 'https://git.example/shop/commit/9f2c1e0' };
    engine.observeChange(change('linked', 'checkout', -5, { links }));
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    expect(engine.attribute(anomaly('checkout')).suspects[0]).toMatchObject({ changeId: 'linked', change: { links } });
  });

  it('exonerates a change that landed after the metric had already started to move', () => {
    const engine = createAttributor({ minConfidence: 0 });
    shop(engine);
    engine.observeChange(change('culprit', 'checkout', -6));
    engine.observeChange(change('too-late', 'checkout', -1, { type: 'config' }));
    // Departs 4 minutes before the detector's onset: a slow ramp.
    feedErrors(engine, 'checkout', { fromMinute: -4 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects[0]!.changeId).toBe('culprit');
    const late = result.suspects.find((s) => s.changeId === 'too-late')!;
    expect(late.evidence.join(' ')).toMatch(/had started to move at .* before this change/);
    // The exonerating line is marked as weighing against the change, apart from the lines for it.
    expect(late.evidenceAgainst?.join(' ')).toMatch(/had started to move at .* before this change/);
    for (const suspect of result.suspects) for (const line of suspect.evidenceAgainst ?? []) expect(suspect.evidence).toContain(line);
    expect(result.suspects[0]!.evidenceAgainst ?? []).not.toContainEqual(expect.stringMatching(/before this change/));
  });
});

describe('priors', () => {
  it('nudges an unreviewed AI agent change above a reviewed human one, and a rollback below both', () => {
    const engine = createAttributor();
    shop(engine);
    const agent = { type: 'ai_agent' as const, name: 'kiro', agent: 'kiro', model: 'claude-sonnet-4.5' };
    engine.observeChange(change('human', 'checkout', -5));
    engine.observeChange(change('agent', 'checkout', -5, { author: agent }));
    engine.observeChange(change('rollback', 'checkout', -5, { type: 'rollback' }));
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result.suspects.map((s) => s.changeId)).toEqual(['agent', 'human', 'rollback']);
    expect(result.suspects[0]!.evidence.join(' ')).toContain('AI agent kiro (claude-sonnet-4.5), unreviewed');
    expect(result.suspects[2]!.evidence.join(' ')).toContain('rollbacks rarely cause incidents');
    expect(result.suspects[0]!.change.links).toBeUndefined();
    // Priors nudge: the agent's change is ahead, not overwhelmingly.
    expect(result.suspects[0]!.confidence / result.suspects[1]!.confidence).toBeLessThan(3);
  });
});

describe('no change', () => {
  it('explains a traffic surge without blaming the change that happened to land before it', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('innocent', 'frontend', -5));
    const random = new Random(5);
    for (let t = T0 - 60 * MINUTE; t <= T0 + 5 * MINUTE; t += STEP) {
      const surging = t >= T0;
      engine.observePoint({ service: 'frontend', metric: 'request_rate', value: (surging ? 3000 : 1000) * (1 + 0.02 * random.normal()), timestamp: t }, surging ? 0.95 : 0.02);
    }
    const result = engine.attribute(anomaly('frontend', { metric: 'request_rate', observed: 3000, expected: 1000 }));
    expect(result.noChangeConfidence).toBeGreaterThan(0.5);
    expect(result.suspects[0]?.confidence ?? 0).toBeLessThan(0.5);
    expect(result.summary).toMatch(/^no tracked change explains it \(\d+ % sure\): request_rate of frontend rose to 3\.0× its usual level/);
  });

  it('judges a traffic ramp by its size when the detector never scored it anomalous', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('flag', 'payments', -2, { type: 'feature_flag' }));
    const random = new Random(6);
    for (let t = T0 - 60 * MINUTE; t <= T0 + 3 * MINUTE; t += STEP) {
      // A 2.5× ramp over four minutes, ending two minutes before the latency alert; every point scores 0.4.
      const ramp = Math.min(1, Math.max(0, (t - (T0 - 6 * MINUTE)) / (4 * MINUTE)));
      const noise = 1 + 0.02 * random.normal();
      engine.observePoint({ service: 'payments', metric: 'request_rate', value: 400 * (1 + 1.5 * ramp) * noise, timestamp: t }, ramp > 0 ? 0.4 : 0.02);
      engine.observePoint({ service: 'payments', metric: 'latency_p99', value: (t >= T0 ? 900 : 300) * noise, timestamp: t }, t >= T0 ? 0.9 : 0.02);
    }
    const result = engine.attribute(anomaly('payments', { metric: 'latency_p99', observed: 900, expected: 300, now: T0 + 3 * MINUTE }));
    expect(result.suspects[0]?.confidence ?? 0).toBeLessThan(0.5);
    expect(result.summary).toMatch(/request_rate of payments rose to 2\.\d× its level of half an hour before \(rank test p < 0\.001\): a traffic surge explains it/);

    // The same latency jump without the traffic: the flag is the suspect again.
    const quiet = createAttributor();
    shop(quiet);
    quiet.observeChange(change('flag', 'payments', -2, { type: 'feature_flag' }));
    for (let t = T0 - 60 * MINUTE; t <= T0 + 3 * MINUTE; t += STEP) {
      quiet.observePoint({ service: 'payments', metric: 'request_rate', value: 400 * (1 + 0.02 * random.normal()), timestamp: t }, 0.02);
      quiet.observePoint({ service: 'payments', metric: 'latency_p99', value: (t >= T0 ? 900 : 300) * (1 + 0.02 * random.normal()), timestamp: t }, t >= T0 ? 0.9 : 0.02);
    }
    const blamed = quiet.attribute(anomaly('payments', { metric: 'latency_p99', observed: 900, expected: 300, now: T0 + 3 * MINUTE }));
    expect(blamed.suspects[0]!.changeId).toBe('flag');
    expect(blamed.suspects[0]!.confidence).toBeGreaterThan(result.suspects[0]?.confidence ?? 0);
    expect(blamed.summary).not.toMatch(/traffic surge/);
  });

  it('says so when there is no candidate at all', () => {
    const engine = createAttributor();
    shop(engine);
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const result = engine.attribute(anomaly('checkout'));
    expect(result).toEqual({ suspects: [], noChangeConfidence: 1, summary: expect.stringMatching(/^no tracked change explains it \(100 % sure\)/) });
  });
});

describe('updates', () => {
  it('keeps its top suspect when two candidates are nearly tied and evidence wobbles', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('a', 'checkout', -5));
    engine.observeChange(change('b', 'checkout', -5.2));
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const tops = [0, 1, 2, 3, 4, 5].map((i) => engine.attribute(anomaly('checkout', { now: T0 + i * 30_000, score: 0.6 + 0.05 * (i % 2) })).suspects[0]!.changeId);
    expect(new Set(tops).size).toBe(1);
  });
});

describe('serialization', () => {
  it('restores from JSON to an engine that answers identically', () => {
    const engine = createAttributor();
    shop(engine);
    engine.observeChange(change('recent', 'checkout', -5, { version: 'v2', previousVersion: 'v1' }));
    feedErrors(engine, 'checkout', { fromMinute: 0, version: (t) => ((t / STEP) % 2 ? 'v1' : 'v2') });
    const restored = restoreAttributor(JSON.parse(JSON.stringify(engine.toJSON())));
    expect(restored.attribute(anomaly('checkout'))).toEqual(engine.attribute(anomaly('checkout')));
    expect(restored.recentChanges(10)).toEqual(engine.recentChanges(10));
  });
});

describe('cost', () => {
  it('estimates departures (sorting sample rings) only when a candidate change or a dependency will read them', () => {
    const engine = createAttributor();
    feedErrors(engine, 'checkout', { fromMinute: 0 });
    const sorts = vi.spyOn(SampleRing.prototype, 'rankOrder');
    try {
      const quiet = engine.attribute(anomaly('checkout'));
      expect(quiet.suspects).toEqual([]);
      expect(quiet.noChangeConfidence).toBe(1);
      expect(sorts).not.toHaveBeenCalled();

      engine.observeChange(change('chg-1', 'checkout', -3));
      expect(engine.attribute(anomaly('checkout')).suspects[0]?.changeId).toBe('chg-1');
      expect(sorts).toHaveBeenCalled();
    } finally {
      sorts.mockRestore();
    }
  });
});
