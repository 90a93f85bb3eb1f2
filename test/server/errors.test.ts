import { describe, expect, it } from 'vitest';
import { ChangewatchError, ERROR_CODES, createError, describeErrorCodes, isChangewatchError } from '../../server/errors.ts';

describe('error registry', () => {
  it('maps codes to their HTTP status and keeps details', () => {
    const error = createError('CW_AUTH_FORBIDDEN', 'operator role required', { role: 'viewer' });
    expect(error).toBeInstanceOf(ChangewatchError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('CW_AUTH_FORBIDDEN');
    expect(error.statusCode).toBe(403);
    expect(error.details).toEqual({ role: 'viewer' });
    expect(createError('CW_AUTH_UNAUTHORIZED', 'no token').statusCode).toBe(401);
    expect(createError('CW_NOT_FOUND', 'no such incident').statusCode).toBe(404);
  });

  it('renders the HTTP error body', () => {
    expect(JSON.parse(JSON.stringify(createError('CW_EVENT_SCHEMA', 'bad event', { path: 'service' })))).toEqual({
      error: { code: 'CW_EVENT_SCHEMA', message: 'bad event', details: { path: 'service' } },
    });
    expect(createError('CW_INTERNAL', 'boom').toJSON()).toEqual({ error: { code: 'CW_INTERNAL', message: 'boom' } });
  });

  it('keeps the cause and recognises its own errors', () => {
    const cause = new Error('socket hang up');
    const error = createError('CW_STORE_QUERY', 'insert failed', undefined, { cause });
    expect(error.cause).toBe(cause);
    expect(isChangewatchError(error)).toBe(true);
    expect(isChangewatchError(error, 'CW_STORE_QUERY')).toBe(true);
    expect(isChangewatchError(error, 'CW_NOT_FOUND')).toBe(false);
    expect(isChangewatchError(cause)).toBe(false);
  });

  it('has a description and a valid status for every code, all prefixed CW_', () => {
    const table = describeErrorCodes();
    expect(table.length).toBe(Object.keys(ERROR_CODES).length);
    for (const { code, statusCode, description } of table) {
      expect(code).toMatch(/^CW_[A-Z_]+$/);
      expect(statusCode).toBeGreaterThanOrEqual(400);
      expect(statusCode).toBeLessThan(600);
      expect(description.length).toBeGreaterThan(10);
    }
  });
});
