import { describe, expect, it } from 'vitest';
import { detectorsWithEffectSizes } from '../../../server/pipeline/create.ts';
import { DEFAULT_EFFECT_SIZES } from '../../../detectors/metric-kind.ts';

describe('pipeline.effectSizes', () => {
  it('reach the detectors of new series of that kind, and only of that kind', () => {
    const detectors = detectorsWithEffectSizes({ ...DEFAULT_EFFECT_SIZES, latency: { up: 3, down: null, minAbsolute: 0 } });
    expect(detectors.create({ metric: 'latency_p99' }).toJSON().options.size).toEqual({ up: 3, down: null, minAbsolute: 0 });
    expect(detectors.create({ metric: 'requests_per_sec' }).toJSON().options.size).toEqual(DEFAULT_EFFECT_SIZES.rate);
  });

  it('decide what pages: a 2x latency step alerts at the default size and not when latency must triple', () => {
    const run = (up: number) => {
      const detector = detectorsWithEffectSizes({ latency: { up, down: null, minAbsolute: 0 } }).create({ metric: 'latency_p99' });
      let max = 0;
      for (let i = 0; i < 120; i++) max = Math.max(max, detector.update({ timestamp: i * 60_000, value: (i >= 100 ? 400 : 200) * (1 + 0.02 * Math.sin(i * 1.7)) }).score);
      return max;
    };
    expect(run(1.25)).toBeGreaterThanOrEqual(0.5);
    expect(run(3)).toBeLessThan(0.5);
  });
});
