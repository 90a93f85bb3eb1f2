import { describe, expect, it } from 'vitest';
import { proportion } from '../../detectors/proportion.ts';
import { MINUTE, seededNormal, seededRandom } from './fixtures.ts';

/** A binomial draw: errors among `n` requests at rate `p`. */
function errors(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

function warmed(n: number, seed = 61) {
  const detector = proportion.create();
  const random = seededRandom(seed);
  for (let i = 0; i < 500; i++) detector.update({ timestamp: i * MINUTE, value: errors(random, n, 0.01) / n, count: n });
  return detector;
}

describe('proportion', () => {
  it('treats 3 errors in 10 requests as noise but 300 in 1,000 as an incident', () => {
    const few = warmed(1000).update({ timestamp: 500 * MINUTE, value: 0.3, count: 10 });
    const many = warmed(1000).update({ timestamp: 500 * MINUTE, value: 0.3, count: 1000 });
    expect(few.score).toBeLessThan(0.5);
    expect(many.score).toBeGreaterThan(0.5);
    expect(many.reason).toMatch(/^0\.3 vs expected 0\.01\d* ± [\d.e-]+: 1000 events, seen less than once in [\d,.]+( (million|billion|trillion))? readings$/);
  });

  it('does not alert on fewer errors by default', () => {
    expect(warmed(1000).update({ timestamp: 500 * MINUTE, value: 0, count: 5000 }).score).toBeLessThan(1e-3);
  });

  it('assumes the usual count when a point carries none', () => {
    const detector = warmed(2000);
    const score = detector.update({ timestamp: 500 * MINUTE, value: 0.05 });
    expect(score.reason).toContain('2000 events');
    expect(score.score).toBeGreaterThan(0.5);
  });
});

describe('proportion after incidents', () => {
  /** 1 % errors over 3,000 requests with 1.5× binomial noise, and an incident at 5 % for 30 of every `every` points. */
  function history(every: number, length = 2000, seed = 5) {
    const detector = proportion.create();
    const normal = seededNormal(seed);
    for (let i = 0; i < length; i++) {
      const p = every > 0 && i > 100 && i % every < 30 ? 0.05 : 0.01;
      detector.update({ timestamp: i * MINUTE, value: Math.max(0, p + 1.5 * normal() * Math.sqrt((p * (1 - p)) / 3000)), count: 3000 });
    }
    return { detector, next: length * MINUTE };
  }

  it('is as alert to the next incident as a series that never had one', () => {
    const quiet = history(0);
    const troubled = history(240);
    const clean = quiet.detector.update({ timestamp: quiet.next, value: 0.3, count: 3000 });
    const after = troubled.detector.update({ timestamp: troubled.next, value: 0.3, count: 3000 });
    // Before incidents were forgotten: 0.54 against 0.61, with the baseline at 1.7 % after the last incident.
    expect(after.score).toBeGreaterThan(0.5);
    expect(Math.abs(after.score - clean.score)).toBeLessThan(0.02);
    expect(after.expected).toBeCloseTo(clean.expected, 3);
  });

  it('scores the points of an incident as before, and learns a ratio that stays as a new normal', () => {
    const { detector, next } = history(0, 500);
    const normal = seededNormal(9);
    const scores: number[] = [];
    for (let i = 0; i < 1500; i++) {
      const p = 0.05 + 1.5 * normal() * Math.sqrt((0.05 * 0.95) / 3000);
      scores.push(detector.update({ timestamp: next + i * MINUTE, value: p, count: 3000 }).score);
    }
    expect(scores[0]).toBeGreaterThan(0.5);
    // The calibration learns the new level while it lasts (one alert, not a page per point) ...
    expect(Math.max(...scores.slice(50, 900))).toBeLessThan(0.5);
    // ... and after `episodeLimit` points it is the series' history: it stays learned.
    const later = detector.update({ timestamp: next + 1500 * MINUTE, value: 0.05, count: 3000 });
    expect(later.score).toBeLessThan(0.3);
    expect(later.expected).toBeCloseTo(0.05, 2);
  });

  it('restores a version 1 checkpoint (no episode bookkeeping) and continues like the detector it came from', () => {
    const { detector, next } = history(0, 400);
    const state = detector.toJSON() as { version: number; state: { scalars: string; cells: string } };
    expect(state.version).toBe(2);
    // Version 1 had the base slots plus hits and trials (8 Float64) and the tail's 32 Float32 cells.
    const v1 = {
      ...state,
      version: 1,
      state: { scalars: Buffer.from(state.state.scalars, 'base64').subarray(0, 8 * 8).toString('base64'), cells: Buffer.from(state.state.cells, 'base64').subarray(0, 32 * 4).toString('base64') },
    };
    const restored = proportion.restore(JSON.parse(JSON.stringify(v1)));
    for (let i = 0; i < 50; i++) {
      const point = { timestamp: next + i * MINUTE, value: i === 20 ? 0.2 : 0.01, count: 3000 };
      expect(restored.update(point)).toEqual(detector.update(point));
    }
  });
});
