/**
 * The one query-string parser of the HTTP API. Every router reads its parameters through these
 * helpers, so that all routes treat an empty value as absent, refuse a repeated parameter, and
 * answer a bad value with `CW_BAD_REQUEST` and the same wording.
 */
import type { Request } from 'express';
import { createError } from '../errors.ts';
import { eventTime } from '../wire/schemas.ts';

/** A query parameter given at most once, or `undefined` when it is absent or empty. */
export function optionalString(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw createError('CW_BAD_REQUEST', `"${name}" must be given once`);
  return value;
}

/** A query parameter that must be present. */
export function requiredString(req: Request, name: string): string {
  return optionalString(req, name) ?? missing(name);
}

/** A query parameter restricted to `allowed`, or `undefined` when absent. */
export function optionalEnum<T extends string>(req: Request, name: string, allowed: readonly T[]): T | undefined {
  const value = optionalString(req, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw createError('CW_BAD_REQUEST', `"${name}" must be one of ${allowed.join(', ')}`, { [name]: value });
  return value as T;
}

/** A required query parameter restricted to `allowed`. */
export function requiredEnum<T extends string>(req: Request, name: string, allowed: readonly T[]): T {
  return optionalEnum(req, name, allowed) ?? missing(name);
}

/** A comma-separated list of values from `allowed`, or `undefined` when absent. */
export function optionalEnumList<T extends string>(req: Request, name: string, allowed: readonly T[]): T[] | undefined {
  const values = optionalString(req, name)?.split(',');
  if (values?.some((value) => !(allowed as readonly string[]).includes(value))) {
    throw createError('CW_BAD_REQUEST', `"${name}" must be a comma-separated list of ${allowed.join(', ')}`);
  }
  return values as T[] | undefined;
}

/** A non-negative integer query parameter (e.g. a pagination cursor), or `undefined` when absent. */
export function optionalInteger(req: Request, name: string): number | undefined {
  const value = optionalString(req, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw createError('CW_BAD_REQUEST', `"${name}" must be a non-negative integer`);
  return Number(value);
}

/** A time query parameter (ISO-8601 or epoch milliseconds) as epoch milliseconds, or `undefined` when absent. */
export function optionalTime(req: Request, name: string): number | undefined {
  const value = optionalString(req, name);
  if (value === undefined) return undefined;
  const parsed = eventTime.safeParse(value);
  if (!parsed.success) throw createError('CW_BAD_REQUEST', `"${name}" must be an ISO-8601 time or epoch milliseconds`);
  return parsed.data;
}

/** The `limit` query parameter: an integer from 1 to `max`, `fallback` when absent (defaults 100 and 1000). */
export function limitParam(req: Request, { fallback = 100, max = 1_000 }: { fallback?: number; max?: number } = {}): number {
  const value = optionalString(req, 'limit');
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw createError('CW_BAD_REQUEST', `"limit" must be an integer from 1 to ${max}`);
  return limit;
}

/** Throws the error for a required parameter that is absent. */
function missing(name: string): never {
  throw createError('CW_BAD_REQUEST', `query parameter "${name}" is required`);
}
