import { describe, expect, it } from 'vitest';
import { dailyProfile } from '../../detectors/daily-profile.ts';
import { MINUTE, dailyCycle, seededNormal } from './fixtures.ts';

const FIVE_MINUTES = 5 * MINUTE;

describe('daily-profile', () => {
  it('flags a value that is wrong for this time of day once it knows the cycle', () => {
    const detector = dailyProfile.create();
    const normal = seededNormal(41);
    for (let i = 0; i < 7 * 288; i++) {
      const timestamp = i * FIVE_MINUTES;
      detector.update({ timestamp, value: dailyCycle(i, timestamp) + normal() });
    }
    const sixAm = 7 * 86_400_000 + 6 * 3_600_000;
    const score = detector.update({ timestamp: sixAm, value: 100 });
    expect(score.score).toBeGreaterThan(0.5);
    expect(score.expected).toBeGreaterThan(140);
    expect(score.reason).toContain('low for this time of day');
  });

  it('never fires on a series without a daily cycle', () => {
    const detector = dailyProfile.create();
    const normal = seededNormal(42);
    const scores: number[] = [];
    for (let i = 0; i < 7 * 288; i++) scores.push(detector.update({ timestamp: i * FIVE_MINUTES, value: 100 + normal() }).score);
    // Float32 histogram sums can leave a surprise of ~1e-7 where there is none: effectively zero.
    expect(Math.max(...scores)).toBeLessThan(1e-3);
  });
});
