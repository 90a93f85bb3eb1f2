import { describe, expect, it } from 'vitest';
import { robustZScore } from '../../detectors/robust-zscore.ts';
import { MINUTE, seededNormal } from './fixtures.ts';

describe('robust-zscore', () => {
  const warmed = () => {
    const detector = robustZScore.create();
    const normal = seededNormal(11);
    for (let i = 0; i < 1000; i++) detector.update({ timestamp: i * MINUTE, value: 50 + normal() });
    return detector;
  };

  it('flags spikes and dips by name', () => {
    const up = warmed().update({ timestamp: 1000 * MINUTE, value: 70 });
    const down = warmed().update({ timestamp: 1000 * MINUTE, value: 30 });
    expect(up.score).toBeGreaterThan(0.5);
    expect(down.score).toBeGreaterThan(0.5);
    expect(up.reason).toContain('a spike');
    expect(down.reason).toContain('a dip');
  });

  it('keeps its expected level through a single outlier', () => {
    const detector = warmed();
    detector.update({ timestamp: 1000 * MINUTE, value: 5000 });
    const next = detector.update({ timestamp: 1001 * MINUTE, value: 50 });
    expect(next.expected).toBeGreaterThan(49);
    expect(next.expected).toBeLessThan(52);
    expect(next.score).toBeLessThan(0.3);
  });

  it('does not make ordinary steps of a quantized series look huge after a quiet stretch', () => {
    const detector = robustZScore.create();
    for (let i = 0; i < 600; i++) detector.update({ timestamp: i * MINUTE, value: i % 7 === 0 ? 11 : 10 });
    for (let i = 600; i < 800; i++) detector.update({ timestamp: i * MINUTE, value: 10 });
    expect(detector.update({ timestamp: 800 * MINUTE, value: 11 }).score).toBeLessThan(0.5);
  });
});
