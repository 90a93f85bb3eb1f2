import { describe, expect, it } from 'vitest';
import { decodeMany, jsonOf, validateRecord } from '../../../server/wire/decode.ts';
import { aChange, aPoint } from '../../support/factories.ts';

describe('decode', () => {
  it('decodes one event or an array of events', () => {
    expect(decodeMany('change', JSON.stringify(aChange()), 10_000)).toMatchObject({ values: [{ id: 'chg-1' }], rejects: [] });
    const batch = decodeMany('metric', JSON.stringify([aPoint(), aPoint({ value: 0.02 })]), 10_000);
    expect(batch.values).toHaveLength(2);
    expect(batch.rejects).toEqual([]);
  });

  it('rejects invalid JSON, oversized messages and schema errors with distinct codes', () => {
    expect(decodeMany('metric', '{"service":', 10_000).rejects[0]!.error.code).toBe('CW_EVENT_INVALID_JSON');
    expect(decodeMany('metric', Buffer.alloc(0), 10_000).rejects[0]!.error.code).toBe('CW_EVENT_INVALID_JSON');
    expect(decodeMany('metric', JSON.stringify(aPoint()), 10).rejects[0]!.error.code).toBe('CW_EVENT_TOO_LARGE');
    expect(decodeMany('metric', JSON.stringify({ ...aPoint(), value: null }), 10_000).rejects[0]!.error.code).toBe('CW_EVENT_SCHEMA');
    expect(decodeMany('metric', JSON.stringify({ ...aPoint(), timestamp: 17 }), 10_000).rejects[0]!.error.code).toBe('CW_EVENT_TIMESTAMP');
  });

  it('keeps the good items of an array and rejects the bad ones with their index and bytes', () => {
    const batch = decodeMany('metric', JSON.stringify([aPoint(), { nope: true }, aPoint({ value: 3 })]), 10_000);
    expect(batch.values.map((p) => p.value)).toEqual([0.01, 3]);
    expect(batch.indexes).toEqual([0, 2]);
    expect(batch.rejects).toHaveLength(1);
    expect(batch.rejects[0]).toMatchObject({ index: 1, original: '{"nope":true}' });
  });

  it('validates replay records with exactly one known key', () => {
    expect(validateRecord({ metric: aPoint() }).ok).toBe(true);
    expect(validateRecord({ change: aChange(), metric: aPoint() }).ok).toBe(false);
    expect(validateRecord({ alert: {} }).ok).toBe(false);
    expect(validateRecord([]).ok).toBe(false);
  });
});

describe('values nested too deeply for JSON.stringify', () => {
  it('dead-letters an array item of 20,000 nested arrays with its exact JSON, and keeps the valid item beside it', () => {
    const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
    const message = `[{"service":"a","metric":"m","value":1,"timestamp":${Date.UTC(2026, 2, 2)}},${deep}]`;
    const batch = decodeMany('metric', Buffer.from(message), 5_000_000);
    expect(batch.values).toHaveLength(1);
    expect(batch.rejects.map((r) => [r.index, r.error.code, r.original])).toEqual([[1, 'CW_EVENT_SCHEMA', deep]]);
  });

  it('encodes what JSON.stringify encodes, recursion or not', () => {
    const text = '{"a":[1,"two",null,true,{"k\\"":2.5}],"b":{},"c":[]}';
    expect(jsonOf(JSON.parse(text))).toBe(text);
    const deep = JSON.parse(`{"x":${'['.repeat(12_000)}"m"${']'.repeat(12_000)}}`);
    expect(jsonOf(deep)).toBe(`{"x":${'['.repeat(12_000)}"m"${']'.repeat(12_000)}}`);
  });

  it('refuses a tag named __proto__ instead of dropping it', () => {
    const point = { service: 'a', metric: 'm', value: 1, timestamp: Date.UTC(2026, 2, 2) };
    for (const tags of ['{"__proto__":"x"}', '{"__proto__":{"polluted":"yes"}}']) {
      const batch = decodeMany('metric', `${JSON.stringify(point).slice(0, -1)},"tags":${tags}}`, 1_000_000);
      expect(batch.values).toEqual([]);
      expect(batch.rejects[0]?.error.code).toBe('CW_EVENT_SCHEMA');
    }
  });
});
