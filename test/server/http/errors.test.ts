/** The one error renderer of the HTTP API. */
import { describe, expect, it } from 'vitest';
import { createError } from '../../../server/errors.ts';
import { toChangewatchError } from '../../../server/http/errors.ts';

describe('toChangewatchError', () => {
  it('passes registry errors through and maps body-parser failures to registry codes', () => {
    const notFound = createError('CW_NOT_FOUND', 'no such thing');
    expect(toChangewatchError(notFound)).toBe(notFound);
    expect(toChangewatchError(Object.assign(new Error('Unexpected token'), { type: 'entity.parse.failed', status: 400, expose: true }))?.code).toBe('CW_EVENT_INVALID_JSON');
    expect(toChangewatchError(Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, expose: true }))?.toJSON()).toEqual({
      error: { code: 'CW_EVENT_TOO_LARGE', message: 'request entity too large' },
    });
    expect(toChangewatchError(Object.assign(new Error('unsupported charset "KOI8-R"'), { type: 'charset.unsupported', status: 415, expose: true }))?.code).toBe('CW_BAD_REQUEST');
  });

  it('leaves anything else to be logged as an internal error', () => {
    expect(toChangewatchError(new Error('bug'))).toBeUndefined();
    expect(toChangewatchError(Object.assign(new Error('boom'), { status: 500, expose: false, type: 'x' }))).toBeUndefined();
    expect(toChangewatchError('a string')).toBeUndefined();
  });
});
