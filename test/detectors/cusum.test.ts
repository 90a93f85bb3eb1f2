import { describe, expect, it } from 'vitest';
import { cusum } from '../../detectors/cusum.ts';
import { MINUTE, seededNormal } from './fixtures.ts';

describe('cusum', () => {
  it('flags a 1.5σ shift within a few dozen points, once', () => {
    const detector = cusum.create();
    const normal = seededNormal(21);
    for (let i = 0; i < 1500; i++) detector.update({ timestamp: i * MINUTE, value: 100 + normal() });
    const scores: number[] = [];
    const reasons: string[] = [];
    for (let i = 1500; i < 1700; i++) {
      const score = detector.update({ timestamp: i * MINUTE, value: 101.5 + normal() });
      scores.push(score.score);
      reasons.push(score.reason);
    }
    const first = scores.findIndex((s) => s >= 0.45);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(40);
    expect(reasons[first]).toContain('the level shifted up');
    // After the shift is flagged the baseline moves: the new level is normal again.
    expect(Math.max(...scores.slice(100))).toBeLessThan(0.45);
  });

  it('ignores a single spike that a z-score would flag', () => {
    const detector = cusum.create();
    const normal = seededNormal(22);
    for (let i = 0; i < 1500; i++) detector.update({ timestamp: i * MINUTE, value: 100 + normal() });
    expect(detector.update({ timestamp: 1500 * MINUTE, value: 200 }).score).toBeLessThan(0.5);
  });
});
