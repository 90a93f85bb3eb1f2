import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { departure, departureTime } from '../../../detectors/attribution/departure.ts';
import { ATTRIBUTION_DEFAULTS } from '../../../detectors/attribution/options.ts';
import { SampleRing } from '../../../detectors/attribution/ring.ts';
import { SeriesTrack } from '../../../detectors/attribution/track.ts';

const MINUTE = 60_000;

/** departureTime as it was written before it read the ring's value order: copies and comparator sorts. */
function reference(track: SeriesTrack, onset: number, now: number, direction: number): number | null {
  const middle = (sorted: number[]) => (sorted.length % 2 ? sorted[sorted.length >> 1]! : (sorted[(sorted.length >> 1) - 1]! + sorted[sorted.length >> 1]!) / 2);
  const baseline = track.history.valuesBetween(onset - 40 * MINUTE, onset - 10 * MINUTE);
  if (baseline.length < 20) return null;
  const sorted = [...baseline].sort((a, b) => a - b);
  const median = middle(sorted);
  const mad = middle(sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b));
  const sigma = Math.max(1.4826 * mad, Math.abs(median) * 1e-3, 1e-12);
  let sum = 0;
  let runStart: number | null = null;
  for (const { time, value } of track.history.samplesBetween(onset - 10 * MINUTE, now + 1)) {
    sum = Math.max(0, sum + (direction * (value - median)) / sigma - 0.5);
    if (sum === 0) runStart = null;
    else runStart ??= time;
    if (sum >= 6) return runStart;
  }
  return null;
}

describe('departureTime', () => {
  it('finds the same run start as copying and sorting the baseline, zeros and ties included', () => {
    const level = fc.oneof(fc.constantFrom(0, -0, 1, 2), fc.double({ min: -100, max: 100, noNaN: true }));
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 400 }), fc.integer({ min: 0, max: 60 }), fc.constantFrom(1, -1), (values, onsetMinute, direction) => {
        const track = new SeriesTrack(new SampleRing(ATTRIBUTION_DEFAULTS.historySize), ATTRIBUTION_DEFAULTS);
        values.forEach((v, i) => track.observe(i * 10_000, v, 0, undefined, 0));
        const onset = onsetMinute * MINUTE;
        expect(departureTime(track, onset, onset + 5 * MINUTE, direction)).toBe(reference(track, onset, onset + 5 * MINUTE, direction));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('departure', () => {
  const track = (values: (i: number) => number) => {
    const t = new SeriesTrack(new SampleRing(ATTRIBUTION_DEFAULTS.historySize), ATTRIBUTION_DEFAULTS);
    // An hour of samples every 10 s; the onset is at minute 50 (sample 300).
    for (let i = 0; i < 360; i++) t.observe(i * 10_000, values(i), 0, undefined, 0);
    return t;
  };
  // Baseline noise alternating ±1 around 10 (median 10, MAD 1).
  const noise = (i: number) => 10 + (i % 2 ? 1 : -1);
  const onset = 50 * MINUTE;

  it('places a sharp step within a minute', () => {
    const d = departure(track((i) => noise(i) + (i >= 290 ? 20 : 0)), onset, onset + 5 * MINUTE, 1)!;
    expect(d.at).toBeGreaterThanOrEqual(289 * 10_000);
    expect(d.at).toBeLessThanOrEqual(290 * 10_000);
    expect(d.earliest).toBeLessThanOrEqual(d.at);
    // Up to the crossing (the first sample of the step) the noise before it looks like a 1 σ shift too.
    expect(d.latest - d.earliest).toBeLessThanOrEqual(60_000);
  });

  it('does not take a small excursion just before a ramp for the ramp starting', () => {
    // A small excursion from sample 270 (0.6 σ), then a ramp from sample 285 that is about 4 σ at the onset.
    const values = (i: number) => noise(i) + (i >= 270 && i < 285 ? 0.9 : 0) + (i >= 285 ? 0.2 * (i - 285) : 0);
    const d = departure(track(values), onset, onset + 5 * MINUTE, 1)!;
    expect(d.at).toBeGreaterThanOrEqual(285 * 10_000);
    expect(d.at).toBeLessThanOrEqual(295 * 10_000);
    expect(d.earliest).toBeLessThanOrEqual(d.at);
    expect(d.latest).toBeGreaterThanOrEqual(d.at);
    expect(departureTime(track(values), onset, onset + 5 * MINUTE, 1)).toBe(d.at);
  });

  it('looks for a shift the size of the anomaly: a 1 σ wobble before a 15 σ step is not its start', () => {
    // Two minutes a little above normal (+1.5, about 1 σ), then a step of +22 (15 σ) at sample 290.
    const values = (i: number) => noise(i) + (i >= 278 && i < 290 ? 1.5 : 0) + (i >= 290 ? 22 : 0);
    const d = departure(track(values), onset, onset + 5 * MINUTE, 1)!;
    expect(d.at).toBe(290 * 10_000);
    expect(d.earliest).toBeGreaterThanOrEqual(289 * 10_000);
  });
});
