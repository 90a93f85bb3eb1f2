import { describe, expect, it } from 'vitest';
import { changeEventSchema, eventTime, telemetryPointSchema } from '../../../server/wire/schemas.ts';
import { aChange, aPoint, T0 } from '../../support/factories.ts';

describe('event time', () => {
  it('accepts ISO-8601 and epoch milliseconds and normalizes both to epoch ms', () => {
    expect(eventTime.parse('2026-03-02T00:00:00Z')).toBe(T0);
    expect(eventTime.parse('2026-03-02T01:00:00+01:00')).toBe(T0);
    expect(eventTime.parse(T0)).toBe(T0);
    expect(eventTime.parse(String(T0))).toBe(T0);
  });

  it('refuses epoch seconds with a hint, and absurd or unparseable times', () => {
    const seconds = eventTime.safeParse(T0 / 1000);
    expect(seconds.success).toBe(false);
    expect(seconds.error!.issues[0]!.message).toMatch(/epoch seconds\?/);
    expect(eventTime.safeParse('2250-01-01T00:00:00Z').success).toBe(false);
    expect(eventTime.safeParse('yesterday').success).toBe(false);
    expect(eventTime.safeParse(Number.NaN).success).toBe(false);
  });
});

describe('change event schema', () => {
  it('accepts the documented shape', () => {
    const parsed = changeEventSchema.parse({ ...aChange(), timestamp: '2026-03-02T00:00:00Z', links: { pr: 'https://git.example/pr/1' } });
    expect(parsed.timestamp).toBe(T0);
    expect(parsed.author.type).toBe('ai_agent');
  });

  it('names every wrong field', () => {
    const result = changeEventSchema.safeParse({ ...aChange(), type: 'yolo', author: { type: 'robot' }, service: '' });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['type', 'author.type', 'author.name', 'service']));
  });
});

describe('telemetry point schema', () => {
  it('refuses non-finite values (JSON cannot carry them, but JS producers can)', () => {
    expect(telemetryPointSchema.safeParse(aPoint({ value: Number.POSITIVE_INFINITY })).success).toBe(false);
    expect(telemetryPointSchema.safeParse({ ...aPoint(), value: '0.5' }).success).toBe(false);
  });

  it('accepts tags and an optional count', () => {
    expect(telemetryPointSchema.parse(aPoint({ count: 1200, tags: { version: 'v2.4.0' } })).tags).toEqual({ version: 'v2.4.0' });
  });
});

describe('fastTelemetryPoint', () => {
  it('agrees with the schema on everything it accepts, and leaves the rest to it', async () => {
    const fc = (await import('fast-check')).default;
    const { fastTelemetryPoint } = await import('../../../server/wire/schemas.ts');
    // Weighted toward valid values so that both sides of the fast path get exercised.
    const name = fc.oneof({ arbitrary: fc.constantFrom('checkout', 'error_rate'), weight: 6 }, fc.constantFrom(' padded', '', 'a'.repeat(201)), fc.string({ maxLength: 5 }));
    const anyValue = fc.oneof({ arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 6 }, fc.integer(), fc.constant(Number.NaN), fc.string({ maxLength: 3 }), fc.constant(null));
    const time = fc.oneof({ arbitrary: fc.double({ min: 9e11, max: 4.2e12, noNaN: true }), weight: 6 }, fc.integer({ min: 0, max: 5e12 }), fc.constant('2026-03-02T00:00:00Z'));
    const tags = fc.option(fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.integer())), { nil: undefined });
    const input = fc.record({ service: name, metric: name, value: anyValue, timestamp: time, count: fc.option(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double()), { nil: undefined }), tags, extra: fc.option(fc.string(), { nil: undefined }) }, { requiredKeys: [] });
    let accepted = 0;
    fc.assert(
      fc.property(input, (raw) => {
        const fast = fastTelemetryPoint(raw);
        if (fast === undefined) return;
        accepted++;
        const slow = telemetryPointSchema.safeParse(raw);
        expect(slow.success).toBe(true);
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 5_000 },
    );
    // The generator must exercise the accepting side too, or the property says nothing.
    expect(accepted).toBeGreaterThan(100);
    expect(fastTelemetryPoint(aPoint())).toEqual(aPoint());
  });
});
