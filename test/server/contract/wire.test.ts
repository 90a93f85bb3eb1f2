import { describe, expect, it } from 'vitest';
import { changeEventSchema, eventTime, telemetryPointSchema } from '../../../server/contract/wire.ts';
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
