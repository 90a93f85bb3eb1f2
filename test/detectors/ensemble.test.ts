import { describe, expect, it } from 'vitest';
import { ensemble } from '../../detectors/ensemble.ts';
import type { Detector, Point, Score } from '../../detectors/types.ts';
import { MINUTE, dailyCycle, seededNormal, seededRandom } from './fixtures.ts';

function feed(detector: Detector, points: Point[]): Score[] {
  return points.map((point) => detector.update(point));
}

function noise(length: number, level = 100, sigma = 1, seed = 3, from = 0): Point[] {
  const normal = seededNormal(seed);
  return Array.from({ length }, (_, i) => ({ timestamp: (from + i) * MINUTE, value: level + sigma * normal() }));
}

/** Noise around 100 with a 20-40 spike every 25 points: spikes are routine for this series. */
function bursty(from: number, length: number): Point[] {
  const normal = seededNormal(5 + from);
  return Array.from({ length }, (_, k) => {
    const i = from + k;
    return { timestamp: i * MINUTE, value: 100 + normal() + (i % 25 === 0 ? 30 + 5 * normal() : 0) };
  });
}

describe('ensemble', () => {
  it('stays quiet on plain noise', () => {
    const scores = feed(ensemble.create(), noise(5000)).map((s) => s.score);
    const alerts = scores.filter((score) => score >= 0.5).length;
    expect(alerts).toBeLessThanOrEqual(2);
  });

  it('stays as quiet when points arrive at irregular intervals, and judges a point after a gap against the level before it', () => {
    // The same noise sampled every 10 s to 5 min at random, and every 155 s (the same mean interval): the
    // views count points, not seconds; only records (after a day) and the daily profile read the clock.
    const jitter = seededRandom(11);
    let timestamp = 0;
    const irregular = noise(5000).map((point) => ({ ...point, timestamp: (timestamp += 10_000 + jitter() * 290_000) }));
    const regular = noise(5000).map((point, i) => ({ ...point, timestamp: (i + 1) * 155_000 }));
    const detector = ensemble.create();
    const alertsOf = (scores: Score[]) => scores.map((score) => score.score >= 0.5);
    const irregularAlerts = alertsOf(feed(detector, irregular));
    expect(irregularAlerts).toEqual(alertsOf(feed(ensemble.create(), regular)));
    expect(irregularAlerts.filter(Boolean).length).toBeLessThanOrEqual(3);

    // Six hours without a point: back at the same level is normal, back 10 σ higher is a change.
    const resumed = timestamp + 6 * 3_600_000;
    const same = ensemble.restore(JSON.parse(JSON.stringify(detector.toJSON())));
    expect(same.update({ timestamp: resumed, value: 100.5 }).score).toBeLessThan(0.3);
    const moved = detector.update({ timestamp: resumed, value: 110 });
    expect(moved.score).toBeGreaterThan(0.5);
    expect(moved.reason).toMatch(/^110 vs expected 10\d/);
  });

  it('flags a spike and says so in one line', () => {
    const detector = ensemble.create();
    feed(detector, noise(1000));
    const spike = detector.update({ timestamp: 1000 * MINUTE, value: 125 });
    expect(spike.score).toBeGreaterThan(0.5);
    expect(spike.reason).toMatch(/^125 vs expected 1\d\d(\.\d+)? ± [\d.]+: a spike, seen less than once in [\d,.]+( (million|billion|trillion))? readings$/);
    expect(spike.lower).toBeLessThan(spike.expected);
    expect(spike.upper).toBeGreaterThan(spike.expected);
  });

  it('flags a lasting level shift too small for any single point to stand out', () => {
    const detector = ensemble.create();
    feed(detector, noise(1500));
    const after = feed(detector, noise(60, 102.5, 1, 9, 1500));
    const top = after.reduce((a, b) => (b.score > a.score ? b : a));
    expect(top.score).toBeGreaterThan(0.45);
  });

  it('weighs a lone odd point below a sustained change (pointWeight)', () => {
    const weighted = ensemble.create();
    const unweighted = ensemble.create({ pointWeight: 1 });
    feed(weighted, noise(1000));
    feed(unweighted, noise(1000));
    const spike = { timestamp: 1000 * MINUTE, value: 125 };
    const [lone, full] = [weighted.update(spike), unweighted.update(spike)];
    expect(lone.reason).toMatch(/a spike/);
    expect(full.reason).toMatch(/a spike/);
    expect(lone.score).toBeLessThan(full.score - 0.02);

    // A shift's evidence accumulates over several points: it is not weighted.
    const shifted = [ensemble.create(), ensemble.create({ pointWeight: 1 })].map((detector) => {
      feed(detector, noise(1500));
      const after = feed(detector, noise(60, 102.5, 1, 9, 1500));
      return after.filter((score) => score.reason.includes('shifted')).map((score) => score.score);
    });
    expect(shifted[0]!.length).toBeGreaterThan(0);
    expect(Math.max(...shifted[0]!)).toBeCloseTo(Math.max(...shifted[1]!), 6);
  });

  it('flags a value that is normal overall but wrong for the time of day', () => {
    const detector = ensemble.create();
    const normal = seededNormal(5);
    const fiveMinutes = 5 * MINUTE;
    for (let i = 0; i < 7 * 288; i++) {
      const timestamp = i * fiveMinutes;
      detector.update({ timestamp, value: dailyCycle(i, timestamp) + normal() });
    }
    // At 06:00 UTC the cycle peaks at 150; 100 is its daily mean but not normal at that hour.
    const sixAm = 7 * 86_400_000 + 6 * 3_600_000;
    const scores = feed(detector, Array.from({ length: 6 }, (_, k) => ({ timestamp: sixAm + k * fiveMinutes, value: 100 })));
    expect(Math.max(...scores.map((s) => s.score))).toBeGreaterThan(0.5);
  });

  it('flags a value beyond everything the series has done, even where spikes are common', () => {
    const detector = ensemble.create();
    feed(detector, bursty(0, 2000));
    const record = detector.update({ timestamp: 2000 * MINUTE, value: 150 });
    expect(record.score).toBeGreaterThanOrEqual(0.5);
    expect(record.reason).toMatch(/^150 vs expected 100 ± [\d.]+: above every value so far \(highest was 14\d\), seen less than once in [\d,.]+( (million|billion|trillion))? readings$/);
    // A usual spike, inside the range, stays below the alert threshold.
    expect(detector.update({ timestamp: 2025 * MINUTE, value: 125 }).score).toBeLessThan(0.5);
    // The record widened the range: a value just above it is within the margin and no record.
    expect(detector.update({ timestamp: 2050 * MINUTE, value: 151 }).reason).not.toMatch(/every value so far/);
  });

  it('calls no record until the range covers a day', () => {
    const detector = ensemble.create();
    feed(detector, bursty(0, 1000)); // 1,000 one-minute points: less than a day
    expect(detector.update({ timestamp: 1000 * MINUTE, value: 150 }).reason).not.toMatch(/every value so far/);
  });

  it('damps a repeat of the same anomaly within the cooldown', () => {
    const detector = ensemble.create();
    feed(detector, noise(1000));
    const first = detector.update({ timestamp: 1000 * MINUTE, value: 130 });
    feed(detector, noise(10, 100, 1, 4, 1001));
    const repeat = detector.update({ timestamp: 1011 * MINUTE, value: 126 });
    expect(first.score).toBeGreaterThan(0.5);
    expect(repeat.score).toBeLessThan(first.score / 1.5);
    expect(repeat.reason).toContain('(continuing)');
  });

  it('models counters as per-second rates across a reset', () => {
    const detector = ensemble.create({ transform: 'rate' });
    const normal = seededNormal(8);
    let total = 0;
    let last: Score | undefined;
    for (let i = 0; i < 1200; i++) {
      total = i === 600 ? 0 : total + 600 + 10 * normal(); // ~10 events per second, reset at 600
      last = detector.update({ timestamp: i * MINUTE, value: total });
      expect(Number.isNaN(last.score)).toBe(false);
    }
    expect(last!.expected).toBeCloseTo(10, 0);
    const burst = detector.update({ timestamp: 1200 * MINUTE, value: total + 6000 });
    expect(burst.score).toBeGreaterThan(0.5);
  });

  it('models latencies on a log scale but reports them in their units', () => {
    const detector = ensemble.create({ transform: 'log' });
    const normal = seededNormal(2);
    for (let i = 0; i < 1000; i++) detector.update({ timestamp: i * MINUTE, value: 200 * Math.exp(0.05 * normal()) });
    const slow = detector.update({ timestamp: 1000 * MINUTE, value: 600 });
    expect(slow.score).toBeGreaterThan(0.5);
    expect(slow.expected).toBeGreaterThan(180);
    expect(slow.expected).toBeLessThan(220);
    expect(slow.reason.startsWith('600 vs expected')).toBe(true);
  });

  it('scores silence with the caller’s clock and learns nothing from it', () => {
    const detector = ensemble.create();
    feed(detector, noise(500));
    expect(detector.silence!(500 * MINUTE).score).toBe(0);
    const silent = detector.silence!(530 * MINUTE);
    expect(silent.score).toBeGreaterThan(0.7);
    expect(silent.reason).toMatch(/usual intervals/);
    expect(detector.silence!(530 * MINUTE)).toEqual(silent);
  });

  it('restores a version 1 checkpoint, which had no range, and calls records once a new range covers a day', () => {
    const original = ensemble.create();
    feed(original, bursty(0, 2000));
    const current = original.toJSON();
    // Version 1 had the same layout without the three range scalars at the end.
    const scalars = Buffer.from(current.state.scalars, 'base64');
    const v1 = { ...current, version: 1, state: { ...current.state, scalars: scalars.subarray(0, scalars.length - 24).toString('base64') } };
    const restored = ensemble.restore(v1);
    expect(restored.toJSON().version).toBe(3);
    feed(restored, bursty(2000, 100));
    expect(restored.update({ timestamp: 2100 * MINUTE, value: 150 }).reason).not.toMatch(/every value so far/);
    feed(restored, bursty(2101, 1500));
    expect(restored.update({ timestamp: 3601 * MINUTE, value: 160 }).reason).toMatch(/above every value so far/);
  });

  it('restores a version 2 checkpoint, whose variance view counted |z|, without a false variance alarm', () => {
    const original = ensemble.create();
    feed(original, noise(1000, 1000, 50));
    const current = original.toJSON();
    // Version 2 had the same layout; Float64 slots 6 and 7 held the variance view's short and long mean |z|.
    const scalars = new Float64Array(new Uint8Array(Buffer.from(current.state.scalars, 'base64')).buffer);
    scalars[6] = 0.8;
    scalars[7] = 0.8;
    const v2 = { ...current, version: 2, state: { ...current.state, scalars: Buffer.from(scalars.buffer).toString('base64') } };
    const restored = ensemble.restore(v2);
    expect(restored.toJSON().version).toBe(3);
    const after = feed(restored, noise(300, 1000, 50, 4, 1000));
    expect(after.filter((score) => score.reason.includes('variance'))).toEqual([]);
    expect(Math.max(...after.map((score) => score.score))).toBeLessThan(0.5);
  });

  it('learns nothing from missing values', () => {
    const a = ensemble.create();
    const b = ensemble.create();
    const points = noise(300);
    feed(a, points);
    for (const point of points) {
      b.update(point);
      b.update({ timestamp: point.timestamp, value: NaN });
    }
    expect(b.toJSON()).toEqual(a.toJSON());
  });
});
