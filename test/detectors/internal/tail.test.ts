import { describe, expect, it } from 'vitest';
import { TAIL_BINS, TAIL_SCALARS, tailInit, tailLearn, tailObserve, tailObserveSmoothed, tailSurprise } from '../../../detectors/internal/tail.ts';
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

  it('smooths the sparse top of the histogram with a fitted tail, and only there', () => {
    // |z| of Gaussian noise (3,000 points) plus six scattered large values (6 to 11).
    const make = () => {
      const scalars = new Float64Array(TAIL_SCALARS);
      const bins = new Float32Array(TAIL_BINS);
      tailInit(scalars, 0, bins, 0);
      const normal = seededNormal(5);
      for (let i = 0; i < 3000; i++) tailLearn(scalars, 0, bins, 0, i % 500 === 0 ? 6 + i / 500 : Math.abs(normal()), 0);
      return { scalars, bins };
    };
    // Observing a value also learns it, so each comparison starts from two fresh copies of the same state.
    const surprises = (z: number): [number, number] => {
      const [a, b] = [make(), make()];
      return [tailObserve(a.scalars, 0, a.bins, 0, z, 0), tailObserveSmoothed(b.scalars, 0, b.bins, 0, z, 0)];
    };
    // An ordinary value (below the top 2 % of the history): identical.
    const [ordinaryPlain, ordinarySmoothed] = surprises(1.5);
    expect(ordinarySmoothed).toBe(ordinaryPlain);
    // Just past the bulk of the noise, where a few points per bin make the histogram's estimate jumpy:
    // the fitted exponential tail says it is less rare.
    const [sparsePlain, sparseSmoothed] = surprises(3.5);
    expect(sparseSmoothed).toBeLessThan(sparsePlain - 0.2);
    expect(sparseSmoothed).toBeGreaterThan(2);
    // Beyond the largest value seen: the same power law.
    const [beyondPlain, beyondSmoothed] = surprises(40);
    expect(beyondSmoothed).toBe(beyondPlain);
  });

  it('forgets old observations with the decay', () => {
    const t = tail();
    for (let i = 0; i < 2000; i++) t.learn(50);
    for (let i = 0; i < 20_000; i++) t.learn(0.5, 0.001);
    expect(t.surprise(50)).toBeGreaterThan(3);
  });
});
