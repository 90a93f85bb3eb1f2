/**
 * Every detector in the registry must pass these: determinism, exact snapshot/restore, bad input that
 * never throws nor yields NaN (property-based), and better than chance on a labelled fixture.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registry, restoreDetector } from '../../detectors/index.ts';
import type { Detector, Point, Score } from '../../detectors/types.ts';
import { FIXTURES, MINUTE, labelledSeries, rocAuc } from './fixtures.ts';

/** A restored detector through a real JSON round trip, as a checkpoint would store it. */
function roundTrip(detector: Detector): Detector {
  return restoreDetector(JSON.parse(JSON.stringify(detector.toJSON())));
}

function expectWellFormed(score: Score): void {
  expect(typeof score.score).toBe('number');
  expect(score.score).toBeGreaterThanOrEqual(0);
  expect(score.score).toBeLessThanOrEqual(1);
  expect(typeof score.expected).toBe('number');
  expect(typeof score.lower).toBe('number');
  expect(typeof score.upper).toBe('number');
  expect(typeof score.reason).toBe('string');
  expect(score.reason.length).toBeGreaterThan(0);
}

const noisy = labelledSeries({ length: 1500, anomaly: (v) => v + 15, at: [700, 1100] }).points;

/** Points of every kind a producer can send, including the broken ones. */
const anyValue = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324),
  fc.integer({ min: -1000, max: 1000 }),
);
const anyPoint: fc.Arbitrary<Point> = fc.record(
  {
    timestamp: fc.oneof(fc.integer({ min: 0, max: 4e12 }), fc.constantFrom(NaN, Infinity, -1)),
    value: anyValue,
    count: fc.oneof(fc.nat(), fc.double(), fc.constant(NaN)),
  },
  { requiredKeys: ['timestamp', 'value'] },
);

for (const [method, definition] of registry) {
  describe(`${method} conformance`, () => {
    it('describes itself and has a labelled fixture', () => {
      expect(definition.method).toBe(method);
      expect(definition.description.length).toBeGreaterThan(10);
      expect(FIXTURES[method], `add a fixture for ${method} in test/detectors/fixtures.ts`).toBeDefined();
    });

    it('is deterministic', () => {
      const a = definition.create();
      const b = definition.create();
      for (const point of noisy) expect(a.update(point)).toEqual(b.update(point));
    });

    it('restores from a JSON snapshot mid-stream and continues identically', () => {
      const original = definition.create();
      for (const point of noisy.slice(0, 900)) original.update(point);
      const restored = roundTrip(original);
      expect(restored.method).toBe(method);
      for (const point of noisy.slice(900)) expect(restored.update(point)).toEqual(original.update(point));
      expect(restored.toJSON()).toEqual(original.toJSON());
    });

    it('warms up with score 0 and never throws on the first points', () => {
      const detector = definition.create();
      const first = detector.update({ timestamp: 0, value: 5 });
      expect(first.score).toBe(0);
      expectWellFormed(first);
    });

    it('survives constant series and huge magnitudes', () => {
      for (const value of [0, 42, 1e300, -1e300, 5e-324]) {
        const detector = definition.create();
        for (let i = 0; i < 400; i++) expectWellFormed(detector.update({ timestamp: i * MINUTE, value }));
        expectWellFormed(detector.update({ timestamp: 400 * MINUTE, value: -value || 1 }));
        expectWellFormed(roundTrip(detector).update({ timestamp: 401 * MINUTE, value }));
      }
    });

    it('never throws nor returns NaN on arbitrary input, and its state stays serializable (fast-check)', () => {
      fc.assert(
        fc.property(fc.array(anyPoint, { minLength: 1, maxLength: 300 }), fc.nat({ max: 400 }), (bad, warm) => {
          const detector = definition.create();
          // A stretch of normal data first, so the bad points also hit a warmed-up detector.
          for (const point of noisy.slice(0, warm)) detector.update(point);
          for (const point of bad) expectWellFormed(detector.update(point));
          const restored = roundTrip(detector);
          const next = { timestamp: 5e12, value: 1 };
          expect(restored.update(next)).toEqual(detector.update(next));
        }),
        { numRuns: 40, seed: 20260523 },
      );
    });

    it('does better than chance on its labelled fixture', () => {
      const { points, anomalous } = FIXTURES[method]!();
      const detector = definition.create();
      const scores = points.map((point) => detector.update(point).score);
      // Only points after warm-up can be judged.
      const from = 300;
      expect(rocAuc(scores.slice(from), anomalous.slice(from))).toBeGreaterThan(0.75);
    });
  });
}
