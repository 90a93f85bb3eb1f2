import { describe, expect, it } from 'vitest';
import type { ChangeEvent, TelemetryPoint } from '../../../contract/events.ts';
import { FleetSimulator, type FleetRecord } from '../../../tooling/sim/fleet.ts';

const START = Date.UTC(2026, 2, 1, 10);
const MINUTE = 60_000;

const changesOf = (records: FleetRecord[]) => records.flatMap((r) => ('change' in r ? [r.change] : []));
const pointsOf = (records: FleetRecord[]) => records.flatMap((r) => ('metric' in r ? [r.metric] : []));
const series = (points: TelemetryPoint[], service: string, metric: string, from: number, to: number) =>
  points.filter((p) => p.service === service && p.metric === metric && !p.tags && p.timestamp >= from && p.timestamp < to).map((p) => p.value);
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('FleetSimulator', () => {
  it('is deterministic and gives the same records however advance is sliced', () => {
    const whole = new FleetSimulator({ seed: 5, start: START }).advance(START + 40 * MINUTE);
    const sliced = new FleetSimulator({ seed: 5, start: START });
    const parts: FleetRecord[] = [];
    for (let t = START; t <= START + 40 * MINUTE; t += 7_777) parts.push(...sliced.advance(t));
    parts.push(...sliced.advance(START + 40 * MINUTE));
    expect(parts).toEqual(whole);
    expect(new FleetSimulator({ seed: 6, start: START }).advance(START + 40 * MINUTE)).not.toEqual(whole);
  });

  it('sends the catalog first, then changes and points in event-time order with epoch-ms timestamps', () => {
    const fleet = new FleetSimulator({ seed: 1, start: START });
    const records = fleet.advance(START + 60 * MINUTE);
    const catalog = fleet.catalog();
    expect(catalog).toHaveLength(12);
    expect(records.slice(0, 12)).toEqual(catalog.map((service) => ({ service })));
    const times = records.slice(12).map((r) => ('change' in r ? r.change.timestamp : 'metric' in r ? r.metric.timestamp : NaN));
    expect(times.every((t, i) => Number.isInteger(t) && (i === 0 || t >= times[i - 1]!))).toBe(true);
    // A dozen services, three metrics each, every 10 s.
    expect(pointsOf(records).filter((p) => !p.tags).length).toBe(12 * 3 * 361);
  });

  it('writes changes by AI agents, AI-assisted humans and humans with provenance', () => {
    const changes = changesOf(new FleetSimulator({ seed: 2, start: START }).advance(START + 12 * 60 * MINUTE));
    expect(changes.length).toBeGreaterThan(60);
    expect(new Set(changes.map((c) => c.author.type))).toEqual(new Set(['ai_agent', 'ai_assisted', 'human']));
    for (const c of changes.filter((c) => c.author.type === 'ai_agent')) expect(c.author).toMatchObject({ agent: expect.any(String), model: expect.any(String) });
    expect(changes.some((c) => c.author.reviewedBy?.length)).toBe(true);
    for (const deploy of changes.filter((c) => c.type === 'deploy')) expect(deploy).toMatchObject({ version: expect.stringMatching(/^v\d+\.\d+\.\d+$/), previousVersion: expect.any(String) });
  });

  it('rolls a deploy of a versioned service out gradually, with version-tagged telemetry', () => {
    const fleet = new FleetSimulator({ seed: 3, start: START, meanChangeIntervalMs: 0 });
    fleet.scheduleChange({ service: 'checkout', at: START + 30 * MINUTE, type: 'deploy' });
    const records = fleet.advance(START + 45 * MINUTE);
    const deploy = changesOf(records)[0]!;
    const tagged = pointsOf(records).filter((p) => p.service === 'checkout' && p.metric === 'error_rate' && p.tags?.version);
    const share = (at: number) => {
      const now = tagged.filter((p) => p.timestamp === at);
      return now.find((p) => p.tags!.version === deploy.version)!.count! / now.reduce((sum, p) => sum + p.count!, 0);
    };
    expect(share(START + 31 * MINUTE)).toBeCloseTo(0.2, 1);
    expect(share(START + 36 * MINUTE)).toBeGreaterThan(0.4);
    expect(tagged.filter((p) => p.timestamp === START + 44 * MINUTE).map((p) => p.tags!.version)).toEqual([deploy.version]);
  });

  it('injects an incident caused by a change: the service breaks after the delay, its callers weaker and later, then a rollback', () => {
    const fleet = new FleetSimulator({ seed: 4, start: START, meanChangeIntervalMs: 0 });
    const truth = fleet.injectChangeIncident({ service: 'inventory', at: START + 60 * MINUTE, effect: { metric: 'error_rate', delayMs: 2 * MINUTE, rampMs: MINUTE, magnitude: 0.1 }, durationMs: 20 * MINUTE });
    const records = fleet.advance(START + 100 * MINUTE);
    const changes = changesOf(records);
    expect(changes.map((c) => c.id)).toContain(truth.causeChangeId);
    expect(changes.at(-1)).toMatchObject({ type: 'rollback', service: 'inventory', timestamp: truth.end });
    expect(truth).toMatchObject({ kind: 'change', effectStart: START + 62 * MINUTE, impactedServices: ['inventory', 'checkout', 'cart', 'api-gateway', 'web-frontend', 'mobile-bff'] });
    const points = pointsOf(records);
    const before = (service: string) => mean(series(points, service, 'error_rate', START + 40 * MINUTE, START + 60 * MINUTE));
    const during = (service: string) => mean(series(points, service, 'error_rate', START + 66 * MINUTE, START + 80 * MINUTE));
    expect(during('inventory') - before('inventory')).toBeCloseTo(0.1, 1);
    expect(during('cart') - before('cart')).toBeCloseTo(0.05, 1);
    expect(mean(series(points, 'inventory', 'error_rate', START + 62 * MINUTE, START + 62.5 * MINUTE))).toBeLessThan(before('inventory') + 0.06);
    // The effect reaches a caller one propagation lag later.
    const firstHigh = (service: string) => points.find((p) => p.service === service && p.metric === 'error_rate' && !p.tags && p.value > before(service) + 0.02)!.timestamp;
    expect(firstHigh('cart')).toBeGreaterThan(firstHigh('inventory'));
    expect(mean(series(points, 'inventory', 'error_rate', START + 85 * MINUTE, START + 100 * MINUTE))).toBeCloseTo(before('inventory'), 2);
  });

  it('rolls a service back on request: the old version takes all traffic at once, the fault of the bad release and its scheduled rollback end, and a rollback change says so', () => {
    const fleet = new FleetSimulator({ seed: 8, start: START, meanChangeIntervalMs: 0 });
    const truth = fleet.injectChangeIncident({ service: 'checkout', at: START + 30 * MINUTE, type: 'deploy', authorType: 'ai_agent', effect: { metric: 'error_rate', delayMs: 0, rampMs: 0, magnitude: 0.3 }, durationMs: 60 * MINUTE });
    // The 8-minute rollout is still under way at 36 min: both versions serve.
    const before = fleet.advance(START + 36 * MINUTE);
    const deploy = changesOf(before).find((c) => c.id === truth.causeChangeId)!;
    expect(fleet.versionsServing('checkout')).toEqual([deploy.previousVersion, deploy.version]);
    const author = { type: 'human' as const, name: 'demo-cd-system', reviewedBy: ['alice'] };
    const rollbackAt = START + 36 * MINUTE + 5_000;
    const id = fleet.rollBack({ service: 'checkout', toVersion: deploy.previousVersion!, at: rollbackAt, author, summary: `Roll back ${deploy.id}` });
    const after = fleet.advance(START + 90 * MINUTE);
    const changes = changesOf(after);
    // Exactly one rollback: the one asked for; the one the incident had scheduled for its end is dropped.
    expect(changes.filter((c) => c.type === 'rollback')).toEqual([
      expect.objectContaining({ id, service: 'checkout', timestamp: rollbackAt, version: deploy.previousVersion, previousVersion: deploy.version, author, summary: `Roll back ${deploy.id}` }),
    ]);
    expect(fleet.versionsServing('checkout')).toEqual([deploy.previousVersion]);
    expect(fleet.incidents()[0]!.end).toBe(rollbackAt);
    const points = pointsOf([...before, ...after]);
    const tagged = (version: string, from: number, to: number) =>
      points.filter((p) => p.service === 'checkout' && p.metric === 'error_rate' && p.tags?.version === version && p.timestamp >= from && p.timestamp < to);
    expect(tagged(deploy.version!, rollbackAt, START + 90 * MINUTE)).toEqual([]);
    expect(mean(tagged(deploy.version!, START + 32 * MINUTE, START + 36 * MINUTE).map((p) => p.value))).toBeGreaterThan(0.25);
    // Every request is on the old version again, and the service's error rate is back at its healthy level.
    const oldAfter = tagged(deploy.previousVersion!, rollbackAt, START + 90 * MINUTE);
    const totals = points.filter((p) => p.service === 'checkout' && p.metric === 'error_rate' && !p.tags && p.timestamp >= rollbackAt && p.timestamp < START + 90 * MINUTE);
    expect(oldAfter.map((p) => p.count)).toEqual(totals.map((p) => p.count));
    expect(mean(series(points, 'checkout', 'error_rate', rollbackAt, START + 90 * MINUTE))).toBeLessThan(0.015);
    expect(mean(series(points, 'checkout', 'error_rate', START + 33 * MINUTE, START + 36 * MINUTE))).toBeGreaterThan(0.05);
  });

  it('refuses a rollback to a version the service never ran, of an unknown service, or to the only version serving', () => {
    const fleet = new FleetSimulator({ seed: 8, start: START, meanChangeIntervalMs: 0 });
    fleet.advance(START + MINUTE);
    const [current] = fleet.versionsServing('checkout');
    const spec = { at: START + 2 * MINUTE, author: { type: 'human' as const, name: 'demo-cd-system' }, summary: 'x' };
    expect(() => fleet.rollBack({ ...spec, service: 'checkout', toVersion: 'v0.0.1' })).toThrow(/never ran v0\.0\.1/);
    expect(() => fleet.rollBack({ ...spec, service: 'nope', toVersion: current! })).toThrow(/no service named nope/);
    expect(() => fleet.rollBack({ ...spec, service: 'checkout', toVersion: current! })).toThrow(/already runs/);
  });

  it('injects incidents no change caused: a dependency failing on its own and a traffic surge', () => {
    const fleet = new FleetSimulator({ seed: 5, start: START, meanChangeIntervalMs: 0 });
    const failure = fleet.injectDependencyFailure({ service: 'payments', at: START + 30 * MINUTE, metric: 'latency_p99', magnitude: 2, rampMs: 0 });
    const surge = fleet.injectTrafficSurge({ service: 'web-frontend', at: START + 30 * MINUTE, multiplier: 3, rampMs: 0 });
    const records = fleet.advance(START + 50 * MINUTE);
    expect(changesOf(records)).toEqual([]);
    expect(failure.causeChangeId).toBeNull();
    expect(surge.impactedServices).toContain('search');
    const points = pointsOf(records);
    const ratio = (service: string, metric: string) => mean(series(points, service, metric, START + 35 * MINUTE, START + 50 * MINUTE)) / mean(series(points, service, metric, START + 10 * MINUTE, START + 30 * MINUTE));
    expect(ratio('payments', 'latency_p99')).toBeCloseTo(3, 0);
    expect(ratio('web-frontend', 'request_rate')).toBeCloseTo(3, 0);
    // search saturates beyond its headroom; accounts has room to spare.
    expect(ratio('search', 'error_rate')).toBeGreaterThan(5);
    expect(ratio('accounts', 'error_rate')).toBeLessThan(1.5);
  });

  it('injects incidents at random for the live demo and records their truth', () => {
    const fleet = new FleetSimulator({ seed: 9, start: START, incidentEveryMs: 5 * MINUTE });
    const records = fleet.advance(START + 60 * MINUTE);
    const incidents = fleet.incidents();
    expect(incidents.length).toBeGreaterThan(4);
    const ids = new Set(changesOf(records).map((c: ChangeEvent) => c.id));
    for (const incident of incidents.filter((i) => i.causeChangeId && i.effectStart < START + 55 * MINUTE)) expect(ids).toContain(incident.causeChangeId);
  });

  it('scales point-to-point noise with the noise option, and never scatters error counts less than a binomial count', () => {
    const spread = (noise: number) => {
      const points = pointsOf(new FleetSimulator({ seed: 12, start: START, meanChangeIntervalMs: 0, noise }).advance(START + 60 * MINUTE));
      // Consecutive differences cancel the slow diurnal swing; what is left is the noise.
      const steps = (metric: string, f: (v: number) => number, service = 'accounts') => {
        const values = series(points, service, metric, START, START + 60 * MINUTE).map(f);
        const diffs = values.slice(1).map((v, i) => v - values[i]!);
        return Math.sqrt(mean(diffs.map((d) => d * d)));
      };
      return { latency: steps('latency_p99', Math.log), traffic: steps('request_rate', (v) => v), errors: steps('error_rate', (v) => v, 'notifications') };
    };
    const base = spread(1);
    const noisy = spread(3);
    const quiet = spread(0.5);
    expect(noisy.latency / base.latency).toBeCloseTo(3, 0);
    expect(noisy.traffic / base.traffic).toBeCloseTo(3, 0);
    // Errors are whole counts (about 15 per point here), so rounding keeps the ratio a little under 3.
    expect(noisy.errors / base.errors).toBeGreaterThan(2.5);
    expect(noisy.errors / base.errors).toBeLessThan(3.3);
    expect(quiet.latency / base.latency).toBeCloseTo(0.5, 1);
    expect(quiet.errors / base.errors).toBeCloseTo(1, 1);
    // The default is the fleet it always was.
    expect(new FleetSimulator({ seed: 12, start: START, noise: 1 }).advance(START + 20 * MINUTE)).toEqual(new FleetSimulator({ seed: 12, start: START }).advance(START + 20 * MINUTE));
  });
});
