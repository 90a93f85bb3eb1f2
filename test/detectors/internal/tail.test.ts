import { describe, expect, it } from 'vitest';
import { TAIL_BINS, TAIL_SCALARS, tailInit, tailLearn, tailSurprise } from '../../../detectors/internal/tail.ts';
import { seededNormal } from '../fixtures.ts';

function tail() {
  const scalars = new Float64Array(TAIL_SCALARS);
  const bins = new Float32Array(TAIL_BINS);
  tailInit(scalars, 0, bins, 0);
  return {
    learn: (z: number, decay = 0.0003) => tailLearn(scalars, 0, bins, 0, z, decay),
    surprise: (z: number) => tailSurprise(scalars, 0, bins, 0, z),
  };
}

describe('tail calibration', () => {
  it('estimates -log10 of the tail probability of |z| for Gaussian noise', () => {
    const t = tail();
    const normal = seededNormal(71);
    for (let i = 0; i < 20_000; i++) t.learn(Math.abs(normal()), 0);
    // P(|z| ≥ 2) ≈ 0.0455 → 1.34; P(|z| ≥ 1) ≈ 0.317 → 0.5
    expect(t.surprise(1)).toBeCloseTo(0.5, 1);
    expect(t.surprise(2)).toBeGreaterThan(1.1);
    expect(t.surprise(2)).toBeLessThan(1.6);
  });

  it('keeps ranking values beyond anything seen', () => {
    const t = tail();
    for (let i = 0; i < 1000; i++) t.learn((i % 10) / 3);
    expect(t.surprise(10)).toBeGreaterThan(t.surprise(4));
    expect(t.surprise(100)).toBeGreaterThan(t.surprise(10));
  });

  it('forgets old observations with the decay', () => {
    const t = tail();
    for (let i = 0; i < 2000; i++) t.learn(50);
    for (let i = 0; i < 20_000; i++) t.learn(0.5, 0.001);
    expect(t.surprise(50)).toBeGreaterThan(3);
  });
});
