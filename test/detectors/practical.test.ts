import { describe, expect, it } from 'vitest';
import { createDefaultDetector, restoreDetector } from '../../detectors/index.ts';
import { effectSizeProblems } from '../../detectors/metric-kind.ts';
import type { Detector, Point, Score } from '../../detectors/types.ts';
import { seededNormal } from './fixtures.ts';

const SECOND = 1000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 2, 2);

interface Case {
  metric: string;
  interval: number;
  history: number;
  value: (i: number, t: number, noise: () => number) => number;
  count?: number;
  seed?: number;
}

/** Feeds `history` points then a changed value from then on; returns the 1-based point after the onset that first scored ≥ 0.5, or 0. */
function firstAlert(c: Case, changed: (v: number, k: number) => number, after = 10): { at: number; verdicts: Score[]; detector: Detector } {
  const detector = createDefaultDetector({ metric: c.metric });
  const noise = seededNormal(c.seed ?? 11);
  const verdicts: Score[] = [];
  let at = 0;
  for (let i = 0; i < c.history + after; i++) {
    const t = START + i * c.interval;
    let v = c.value(i, t, noise);
    if (i >= c.history) v = changed(v, i - c.history);
    const point: Point = c.count === undefined ? { timestamp: t, value: v } : { timestamp: t, value: v, count: c.count };
    const verdict = detector.update(point);
    if (i >= c.history) verdicts.push(verdict);
    if (i >= c.history && at === 0 && verdict.score >= 0.5) at = i - c.history + 1;
  }
  return { at, verdicts, detector };
}

/** Largest score over a no-change series. */
function quietMax(c: Case, points: number): number {
  const detector = createDefaultDetector({ metric: c.metric });
  const noise = seededNormal(c.seed ?? 5);
  let max = 0;
  for (let i = 0; i < points; i++) {
    const t = START + i * c.interval;
    const point: Point = c.count === undefined ? { timestamp: t, value: c.value(i, t, noise) } : { timestamp: t, value: c.value(i, t, noise), count: c.count };
    max = Math.max(max, detector.update(point).score);
  }
  return max;
}

describe('the default detector: practical significance beside statistical rarity', () => {
  it('alerts a rolling deploy that takes p99 latency from 205 to 450 ms within 3 points (6 h of history with a 6-hour load cycle)', () => {
    const latency: Case = {
      metric: 'latency_p99',
      interval: 30 * SECOND,
      history: 720,
      value: (_i, t, noise) => 205 * (1 + 0.1 * Math.sin((2 * Math.PI * (t - START)) / (6 * HOUR))) * (1 + 0.03 * noise()),
    };
    const { at, verdicts } = firstAlert(latency, (v) => v * 2.2);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(3);
    const alerted = verdicts[at - 1]!;
    expect(alerted.reason).toMatch(/2\.\d+× its level of the previous half hour/);
    // The band before the incident is the series', not 94–331 ms.
    expect(alerted.upper).toBeLessThan(300);
  });

  it('alerts a 2x step after only 40 points of history', () => {
    const { at } = firstAlert({ metric: 'latency_p99', interval: 60 * SECOND, history: 40, value: (_i, _t, n) => 200 * (1 + 0.1 * n()) }, (v) => v * 2);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(3);
  });

  it('alerts an error ratio sent without counts that goes from 1.2 % to 7.5 %', () => {
    const { at } = firstAlert({ metric: 'error_rate', interval: 60 * SECOND, history: 300, value: (_i, _t, n) => Math.max(0, 0.012 * (1 + 0.15 * n())) }, () => 0.075);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(3);
  });

  it('alerts a search error rate that goes from 0.3 % to 5.6 % with 2,000 requests behind each point', () => {
    const { at } = firstAlert({ metric: 'error_rate', interval: 10 * SECOND, history: 700, count: 2000, value: (_i, _t, n) => Math.max(0, 0.003 + 0.0012 * n()) }, () => 0.056);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(3);
  });

  it('alerts a halving of traffic at the daily low', () => {
    // Daily cycle between 40 and 160 requests/s; the drop starts at the trough (06:00 UTC).
    const traffic: Case = {
      metric: 'requests_per_sec',
      interval: 60 * SECOND,
      history: 6 * 60 + 24 * 60,
      value: (_i, t, n) => (100 - 60 * Math.cos((2 * Math.PI * ((t - START - 6 * HOUR) % (24 * HOUR))) / (24 * HOUR))) * (1 + 0.05 * n()),
    };
    const { at } = firstAlert(traffic, (v) => v / 2);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(3);
  });

  it('alerts an 8x latency jump that follows a sub-threshold wobble', () => {
    const latency: Case = { metric: 'latency_p99', interval: 30 * SECOND, history: 400, value: (i, _t, n) => 100 * (i >= 380 && i < 384 ? 1.3 : 1) * (1 + 0.05 * n()) };
    const { at } = firstAlert(latency, (v) => v * 8);
    expect(at).toBeGreaterThan(0);
    // Every 30 s, three of five points must agree: within 2 minutes.
    expect(at).toBeLessThanOrEqual(3);
  });

  it('does not page single-point 3x blips in a series without any change', () => {
    const blips: Case = { metric: 'latency_p99', interval: 10 * SECOND, history: 0, seed: 3, value: (i, _t, n) => 200 * (1 + 0.05 * n()) * (i % 997 === 500 ? 3 : 1) };
    expect(quietMax(blips, 20_000)).toBeLessThan(0.5);
  });

  it('does not page a 10 % wiggle on a smooth series, however rare', () => {
    const smooth: Case = { metric: 'latency_p99', interval: 60 * SECOND, history: 600, value: (_i, _t, n) => 200 * (1 + 0.005 * n()) };
    const { at, verdicts } = firstAlert(smooth, (v) => v * 1.1, 30);
    expect(at).toBe(0);
    expect(Math.max(...verdicts.map((v) => v.score))).toBeLessThan(0.5);
  });

  it('does not page a burst the series made and came back from earlier the same day, but pages a lasting change of that size', () => {
    // A nightly job: CPU from 20 % to 70 % for three points every 3 hours.
    const cpu = (i: number, n: () => number) => Math.min(1, (i % 180 >= 100 && i % 180 < 103 ? 0.7 : 0.2) * (1 + 0.05 * n()));
    const bursts = firstAlert({ metric: 'cpu_utilization', interval: 60 * SECOND, history: 700, value: (i, _t, n) => cpu(i, n) }, (v) => v, 400);
    const paged = bursts.verdicts.filter((v, k) => v.score >= 0.5 && (bursts.verdicts[k - 1]?.score ?? 0) < 0.5).length;
    expect(paged).toBe(0);
    const lasting = firstAlert({ metric: 'cpu_utilization', interval: 60 * SECOND, history: 700, value: (i, _t, n) => cpu(i, n) }, () => 0.7, 12);
    expect(lasting.verdicts.slice(6).some((v) => v.score >= 0.5)).toBe(true);
  });

  it('keeps bands inside the metric domain: ratios in [0, 1], latencies never negative', () => {
    const ratio = firstAlert({ metric: 'error_rate', interval: 60 * SECOND, history: 200, value: (_i, _t, n) => Math.max(0, 0.006 + 0.006 * n()) }, () => 0.3);
    for (const v of ratio.verdicts) {
      expect(v.lower).toBeGreaterThanOrEqual(0);
      expect(v.upper).toBeLessThanOrEqual(1);
    }
    const latency = firstAlert({ metric: 'latency_ms', interval: 60 * SECOND, history: 200, value: (_i, _t, n) => Math.max(0, 5 + 4 * n()) }, (v) => v * 4);
    for (const v of latency.verdicts) expect(v.lower).toBeGreaterThanOrEqual(0);
  });

  it('turns counters into rates: a counter whose rate halves is a traffic drop', () => {
    let total = 0;
    const { at } = firstAlert(
      { metric: 'http_requests_total', interval: 30 * SECOND, history: 200, value: (i, _t, n) => (total += 30 * 100 * (1 + 0.05 * n()) * (i >= 200 ? 0.5 : 1)) },
      (v) => v,
    );
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(3);
  });

  it('restores from its checkpoint and continues exactly', () => {
    const detector = createDefaultDetector({ metric: 'latency_p99' });
    const noise = seededNormal(2);
    for (let i = 0; i < 300; i++) detector.update({ timestamp: START + i * 30 * SECOND, value: 200 * (1 + 0.05 * noise()) });
    const restored = restoreDetector(JSON.parse(JSON.stringify(detector.toJSON())));
    for (let i = 300; i < 320; i++) {
      const point = { timestamp: START + i * 30 * SECOND, value: 200 * (i > 310 ? 3 : 1) * (1 + 0.05 * noise()) };
      expect(restored.update(point)).toEqual(detector.update(point));
    }
  });

  it('validates effect sizes', () => {
    expect(effectSizeProblems({ up: 1.5, down: 0.5, minAbsolute: 0 })).toEqual([]);
    expect(effectSizeProblems({ up: 0.9, down: 2, minAbsolute: -1 })).toHaveLength(3);
  });
});

describe('a ratio sent in percent (…_pct, …_percent)', () => {
  const fraction: Case = { metric: 'error_rate', interval: 30 * SECOND, history: 120, value: (_i, _t, noise) => Math.max(0, 0.003 + 0.0004 * noise()), count: 2000 };
  const percent: Case = { ...fraction, metric: 'error_pct', value: (i, t, noise) => 100 * fraction.value(i, t, noise) };

  it('is judged exactly as the same ratio in fractions, with its answers in percent and its band within [0, 100]', () => {
    const a = firstAlert(fraction, (v) => v * 6);
    const b = firstAlert(percent, (v) => v * 6);
    expect(a.at).toBeGreaterThan(0);
    expect(b.at).toBe(a.at);
    b.verdicts.forEach((verdict, k) => {
      const other = a.verdicts[k]!;
      expect(verdict.score).toBeCloseTo(other.score, 9);
      expect(verdict.expected).toBeCloseTo(100 * other.expected, 6);
      expect(verdict.upper).toBeCloseTo(100 * other.upper, 6);
      expect(verdict.lower).toBeGreaterThanOrEqual(0);
      expect(verdict.upper).toBeLessThanOrEqual(100);
    });
    expect(b.verdicts[b.at - 1]!.expected).toBeGreaterThan(0.2);
    expect(b.verdicts[b.at - 1]!.expected).toBeLessThan(0.4);
  });

  it('restores with its unit', () => {
    const { detector } = firstAlert(percent, (v) => v);
    const restored = restoreDetector(JSON.parse(JSON.stringify(detector.toJSON())));
    const point = { timestamp: START + 200 * 30 * SECOND, value: 0.3, count: 2000 };
    expect(restored.update(point)).toEqual(detector.update(point));
  });
});
