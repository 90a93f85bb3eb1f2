import { describe, expect, it } from 'vitest';
import { proportion } from '../../detectors/proportion.ts';
import { MINUTE, seededRandom } from './fixtures.ts';

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
    expect(many.reason).toMatch(/^0\.3 vs expected 0\.01\d* ± [\d.e-]+: 1000 events, rarer than/);
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
