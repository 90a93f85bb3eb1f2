import { describe, expect, it } from 'vitest';
import { flatline } from '../../detectors/flatline.ts';
import { MINUTE, seededNormal } from './fixtures.ts';

describe('flatline', () => {
  it('flags a value that freezes in a series that always moves', () => {
    const detector = flatline.create();
    const normal = seededNormal(51);
    for (let i = 0; i < 1000; i++) detector.update({ timestamp: i * MINUTE, value: 20 + normal() });
    let last = { score: 0, reason: '' };
    for (let i = 1000; i < 1030; i++) last = detector.update({ timestamp: i * MINUTE, value: 20.5 });
    expect(last.score).toBeGreaterThan(0.5);
    expect(last.reason).toContain('unchanged for 30 points');
  });

  it('accepts a series that is constant from the start', () => {
    const detector = flatline.create();
    const scores: number[] = [];
    for (let i = 0; i < 2000; i++) scores.push(detector.update({ timestamp: i * MINUTE, value: 0 }).score);
    expect(Math.max(...scores)).toBeLessThan(0.3);
  });

  it('scores a metric that stopped reporting', () => {
    const detector = flatline.create();
    for (let i = 0; i < 200; i++) detector.update({ timestamp: i * MINUTE, value: i });
    expect(detector.silence!(200 * MINUTE).score).toBeLessThan(0.1);
    expect(detector.silence!(208 * MINUTE).score).toBeLessThan(0.5);
    expect(detector.silence!(300 * MINUTE).score).toBeGreaterThan(0.9);
  });
});
