import { describe, expect, it } from 'vitest';
import { varianceShift } from '../../detectors/variance-shift.ts';
import { MINUTE, seededNormal } from './fixtures.ts';

describe('variance-shift', () => {
  it('flags a metric that becomes much noisier at the same level', () => {
    const detector = varianceShift.create();
    const normal = seededNormal(31);
    let calm = 0;
    for (let i = 0; i < 2000; i++) {
      const score = detector.update({ timestamp: i * MINUTE, value: 10 + normal() }).score;
      if (i >= 1000) calm = Math.max(calm, score);
    }
    let top = { score: 0, reason: '' };
    for (let i = 2000; i < 2100; i++) {
      const score = detector.update({ timestamp: i * MINUTE, value: 10 + 6 * normal() });
      if (score.score > top.score) top = score;
    }
    expect(top.score).toBeGreaterThan(0.45);
    expect(top.score).toBeGreaterThan(calm + 0.1);
    expect(top.reason).toMatch(/variance [\d.]+× its usual/);
  });

  it('stays low when noise keeps its size', () => {
    const detector = varianceShift.create();
    const normal = seededNormal(32);
    const scores: number[] = [];
    for (let i = 0; i < 4000; i++) scores.push(detector.update({ timestamp: i * MINUTE, value: 10 + normal() }).score);
    expect(scores.filter((s) => s >= 0.5).length).toBeLessThanOrEqual(2);
  });
});
