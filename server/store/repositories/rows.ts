/** Conversions between driver values and contract types shared by the repositories. */

/** ISO-8601 string of a timestamptz column (both drivers return `Date`). */
export function isoString(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** ISO-8601 string of a nullable timestamptz column, `undefined` for NULL. */
export function optionalIsoString(value: Date | string | null): string | undefined {
  return value === null ? undefined : isoString(value);
}

/** A bigint column as a number: `pg` returns int8 as a string, PGlite as a number. */
export function toNumber(value: number | string | bigint): number {
  return Number(value);
}

/** Bounds a caller-supplied list limit. */
export function clampLimit(limit: number | undefined, fallback = 100, max = 1000): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(Math.max(1, Math.floor(limit)), max);
}

/**
 * Accumulates `WHERE` conditions with positional parameters, so list queries with optional filters
 * stay readable.
 */
export class WhereBuilder {
  private readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a condition; `?` in `sql` becomes the next `$n`. */
  add(sql: string, value: unknown): this {
    this.params.push(value);
    this.conditions.push(sql.replace('?', `$${this.params.length}`));
    return this;
  }

  /** The next positional placeholder for a value appended after the conditions (e.g. LIMIT). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** `WHERE a AND b`, or an empty string. */
  toSql(): string {
    return this.conditions.length === 0 ? '' : `WHERE ${this.conditions.join(' AND ')}`;
  }
}
