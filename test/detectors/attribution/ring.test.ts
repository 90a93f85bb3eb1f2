/**
 * SampleRing's storage: arrays that grow with the samples, counts only when a sample has one, and a
 * checkpoint form that holds the used slots only; none of it may change what the ring answers.
 */
import { describe, expect, it } from 'vitest';
import { SampleRing } from '../../../detectors/attribution/ring.ts';
import { toBase64 } from '../../../detectors/internal/packed-state.ts';

/** Everything a ring answers, oldest first, plus its value order. */
function answers(ring: SampleRing) {
  const samples = Array.from({ length: ring.length }, (_, i) => [ring.timeAt(i), ring.valueAt(i), ring.countAt(i)]);
  return { samples, latest: ring.latest, order: Array.from(ring.rankOrder()?.index ?? []), window: ring.samplesBetween(30_000, 90_000), count: ring.countBetween(30_000, 90_000) };
}

function filled(capacity: number, n: number, withCounts: boolean): SampleRing {
  const ring = new SampleRing(capacity);
  // Repeated values: equal values are ordered by slot, so slots must not move as the arrays grow.
  for (let i = 0; i < n; i++) ring.push(i * 1_000, (i * 7) % 5, withCounts && i % 3 === 0 ? 100 + i : 0);
  return ring;
}

describe('SampleRing storage', () => {
  it.each([
    [360, 10, false],
    [360, 17, true],
    [360, 360, false],
    [360, 1_000, true],
    [5, 12, true],
  ])('capacity %i after %i samples (counts: %s) restores from its checkpoint form exactly', (capacity, n, withCounts) => {
    const ring = filled(capacity, n, withCounts);
    const restored = SampleRing.fromJSON(JSON.parse(JSON.stringify(ring.toJSON())));
    expect(answers(restored)).toEqual(answers(ring));
    // And goes on the same way.
    ring.push(n * 1_000, 3, 7);
    restored.push(n * 1_000, 3, 7);
    expect(answers(restored)).toEqual(answers(ring));
  });

  it('writes only the used slots of a young ring, and no counts when none had one', () => {
    const json = filled(360, 10, false).toJSON();
    expect(Buffer.from(json.values, 'base64').length).toBe(10 * 4);
    expect(json.counts).toBe('');
    expect(Buffer.from(filled(360, 400, true).toJSON().values, 'base64').length).toBe(360 * 4);
  });

  it('writes regularly spaced times as runs of equal steps, and any other times as their bytes, restoring both exactly', () => {
    // Full and wrapped: slot order runs from the newest back to the oldest once, so two runs and a jump.
    const regular = filled(360, 1_000, false);
    expect(regular.toJSON().times).toMatch(/^r:/);
    expect(regular.toJSON().times.length).toBeLessThan(80);
    const irregular = new SampleRing(50);
    const fractional = new SampleRing(50);
    for (let i = 0; i < 60; i++) {
      irregular.push(i * 1_000 + ((i * 37) % 11) * 13, i, 0);
      fractional.push(i * 1_000.1 + 0.07, i, 0);
    }
    // Steps that never repeat are no shorter as runs; fractional steps need not add back exactly.
    expect(irregular.toJSON().times).not.toMatch(/^r:/);
    for (const ring of [regular, irregular, fractional]) {
      const restored = SampleRing.fromJSON(JSON.parse(JSON.stringify(ring.toJSON())));
      expect(answers(restored)).toEqual(answers(ring));
      for (let i = 0; i < ring.length; i++) expect(Object.is(restored.timeAt(i), ring.timeAt(i))).toBe(true);
    }
  });

  it('reads a checkpoint written with every slot (before only used ones were)', () => {
    const ring = filled(360, 10, true);
    const times = new Float64Array(360);
    const values = new Float32Array(360);
    const counts = new Float32Array(360);
    for (let i = 0; i < 10; i++) [times[i], values[i], counts[i]] = [ring.timeAt(i), ring.valueAt(i), ring.countAt(i)];
    const old = { capacity: 360, next: 10, size: 10, times: toBase64(times), values: toBase64(values), counts: toBase64(counts) };
    expect(answers(SampleRing.fromJSON(old))).toEqual(answers(ring));
  });

  it('restores a malformed checkpoint as an empty ring', () => {
    expect(SampleRing.fromJSON({ capacity: 360, next: 3, size: 10, times: '', values: '', counts: '' }).length).toBe(0);
    expect(SampleRing.fromJSON({ capacity: 360, next: 10, size: 10, times: 'AAAA', values: '', counts: '' }).length).toBe(0);
    // Runs that add up to another length, or a repeat count that is not whole.
    const json = filled(360, 10, false).toJSON();
    const runs = (values: number[]) => `r:${toBase64(Float64Array.from(values))}`;
    expect(SampleRing.fromJSON({ ...json, times: runs([0, 1_000, 8]) }).length).toBe(0);
    expect(SampleRing.fromJSON({ ...json, times: runs([0, 1_000, 8.5]) }).length).toBe(0);
    expect(SampleRing.fromJSON({ ...json, times: runs([0, 1_000, 9]) }).length).toBe(10);
  });
});
