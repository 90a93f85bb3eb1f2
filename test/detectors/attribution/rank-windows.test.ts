import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleRing } from '../../../detectors/attribution/ring.ts';
import { rankShiftBetween, rankShiftPValue } from '../../../detectors/attribution/statistics.ts';

/** The windows copied out and oriented, as the rank tests did before they read rings in place. */
function byCopies(ring: SampleRing, direction: number, beforeFrom: number, beforeTo: number, afterFrom: number, afterTo: number): number {
  const oriented = (values: number[]) => (direction > 0 ? values : values.map((v) => -v));
  return rankShiftPValue(oriented(ring.valuesBetween(beforeFrom, beforeTo)), oriented(ring.valuesBetween(afterFrom, afterTo)));
}

describe('rank tests on ring windows', () => {
  it('equal the copied-window test bit for bit, ties, signed zeros, wrap-around and overlapping windows included', () => {
    const value = fc.oneof(fc.constantFrom(0, -0, 1, -1, 2.5, 1e30), fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), value), { maxLength: 90 }),
        fc.constantFrom(1, -1),
        fc.array(fc.integer({ min: -5, max: 105 }), { minLength: 4, maxLength: 4 }),
        (capacity, samples, direction, bounds) => {
          const ring = new SampleRing(capacity);
          for (const [time, v] of samples) ring.push(time, v, 0);
          const [a, b, c, d] = bounds as [number, number, number, number];
          const order = ring.rankOrder()!;
          expect(order).not.toBeNull();
          expect(Object.is(rankShiftBetween(order, direction, a, b, c, d), byCopies(ring, direction, a, b, c, d))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('orders samples by value and forgets the order when a sample arrives', () => {
    const ring = new SampleRing(4);
    for (const [t, v] of [[1, 3], [2, -1], [3, 0], [4, -0], [5, 2]] as const) ring.push(t, v, 0);
    const order = ring.rankOrder()!;
    expect([...order.index].map((at) => order.values[at])).toEqual([-1, -0, 0, 2]);
    expect(ring.rankOrder()).toBe(order);
    ring.push(6, 1, 0);
    expect(ring.rankOrder()).not.toBe(order);
  });

  it('has no order for a ring holding a value that is not finite (rank tests then copy the windows)', () => {
    const ring = new SampleRing(4);
    ring.push(1, 1e39, 0); // beyond single precision: Infinity
    expect(ring.rankOrder()).toBeNull();
  });

  it('counts samples in a window across the wrap-around', () => {
    const ring = new SampleRing(5);
    for (let t = 0; t < 8; t++) ring.push(t, t, 0);
    for (const [from, to] of [[0, 10], [3, 6], [5, 8], [6, 7], [9, 10]] as const) expect(ring.countBetween(from, to)).toBe(ring.valuesBetween(from, to).length);
  });
});
