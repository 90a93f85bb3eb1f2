import { describe, expect, it } from 'vitest';
import { MAX_SILENCE_MS, MIN_SILENT_INTERVALS, SILENT_INTERVALS, silenceScore } from '../../../detectors/internal/silence.ts';
import { ALERT_THRESHOLD } from '../../../detectors/types.ts';

const MINUTE = 60_000;
/** How long a series with points every `interval` ms may be silent before its silence pages. */
function silenceBeforePage(interval: number): number {
  let silent = interval;
  while (silenceScore(silent, 0, interval, 1, true).score < ALERT_THRESHOLD) silent += 1_000;
  return silent;
}

describe('silenceScore', () => {
  it('pages after ten missed intervals for fast series', () => {
    expect(silenceBeforePage(10_000)).toBe(SILENT_INTERVALS * 10_000);
    expect(silenceBeforePage(30_000)).toBe(SILENT_INTERVALS * 30_000);
  });

  it('never waits longer than a quarter of an hour, whatever the sampling interval', () => {
    expect(silenceBeforePage(5 * MINUTE)).toBe(MAX_SILENCE_MS);
    expect(silenceBeforePage(2 * MINUTE)).toBe(MAX_SILENCE_MS);
    // Its reason still counts the series' own intervals.
    expect(silenceScore(15 * MINUTE, 0, 5 * MINUTE, 1, true).reason).toBe('no point for 900 s, about 3 usual intervals');
  });

  it('waits at least three intervals for slow series: a late hourly point is not an outage', () => {
    expect(silenceBeforePage(60 * MINUTE)).toBe(MIN_SILENT_INTERVALS * 60 * MINUTE);
  });

  it('says nothing while warming up or within one interval', () => {
    expect(silenceScore(20 * MINUTE, 0, 5 * MINUTE, 1, false).score).toBe(0);
    expect(silenceScore(4 * MINUTE, 0, 5 * MINUTE, 1, true).score).toBe(0);
  });
});
