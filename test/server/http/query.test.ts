/** The shared query-string parser every API route uses. */
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { isChangewatchError } from '../../../server/errors.ts';
import { limitParam, optionalEnum, optionalEnumList, optionalInteger, optionalString, optionalTime, requiredEnum, requiredString } from '../../../server/http/query.ts';

/** A request carrying only a parsed query string. */
const request = (query: Record<string, string | string[]>): Request => ({ query }) as unknown as Request;

/** The message of the `CW_BAD_REQUEST` that `parse` throws. */
function badRequest(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(isChangewatchError(error, 'CW_BAD_REQUEST')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected CW_BAD_REQUEST');
}

describe('query parameters', () => {
  it('treats an empty value as absent and refuses a repeated one', () => {
    expect(optionalString(request({ service: 'checkout' }), 'service')).toBe('checkout');
    expect(optionalString(request({ service: '' }), 'service')).toBeUndefined();
    expect(optionalString(request({}), 'service')).toBeUndefined();
    expect(badRequest(() => optionalString(request({ service: ['a', 'b'] }), 'service'))).toBe('"service" must be given once');
    expect(badRequest(() => requiredString(request({}), 'service'))).toBe('query parameter "service" is required');
  });

  it('restricts values and comma-separated lists to the allowed ones', () => {
    const colours = ['red', 'green'] as const;
    expect(optionalEnum(request({ c: 'red' }), 'c', colours)).toBe('red');
    expect(badRequest(() => optionalEnum(request({ c: 'blue' }), 'c', colours))).toBe('"c" must be one of red, green');
    expect(requiredEnum(request({ c: 'green' }), 'c', colours)).toBe('green');
    expect(badRequest(() => requiredEnum(request({}), 'c', colours))).toBe('query parameter "c" is required');
    expect(optionalEnumList(request({ c: 'red,green' }), 'c', colours)).toEqual(['red', 'green']);
    expect(optionalEnumList(request({}), 'c', colours)).toBeUndefined();
    expect(badRequest(() => optionalEnumList(request({ c: 'red,' }), 'c', colours))).toBe('"c" must be a comma-separated list of red, green');
  });

  it('parses limits, integers and times', () => {
    expect(limitParam(request({}))).toBe(100);
    expect(limitParam(request({ limit: '1000' }))).toBe(1000);
    expect(limitParam(request({}), { fallback: 500, max: 2_000 })).toBe(500);
    for (const limit of ['0', '1001', '2.5', 'ten']) expect(badRequest(() => limitParam(request({ limit })))).toBe('"limit" must be an integer from 1 to 1000');
    expect(optionalInteger(request({ beforeId: '42' }), 'beforeId')).toBe(42);
    expect(badRequest(() => optionalInteger(request({ beforeId: '-1' }), 'beforeId'))).toBe('"beforeId" must be a non-negative integer');
    expect(optionalTime(request({ since: '2026-03-02T10:00:00Z' }), 'since')).toBe(Date.parse('2026-03-02T10:00:00Z'));
    expect(optionalTime(request({ since: '1772445600000' }), 'since')).toBe(1772445600000);
    expect(badRequest(() => optionalTime(request({ since: 'yesterday' }), 'since'))).toBe('"since" must be an ISO-8601 time or epoch milliseconds');
  });
});
