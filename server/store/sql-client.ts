/**
 * The one SQL seam of the store: a tiny Postgres-dialect client (`$1` parameters, transactions)
 * implemented by the embedded PGlite adapter and by the `pg` adapter for a real PostgreSQL server.
 */
import { createError, type ChangewatchError } from '../errors.ts';

/** Something that runs Postgres SQL: the database itself or an open transaction. */
export interface SqlClient {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a parameterless script that may hold several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `work` in a transaction, committing when it resolves and rolling back when it throws.
   * Called on a client that is already a transaction, it joins that transaction (no savepoint).
   * Statements `work` issues at once (`Promise.all`) run one at a time on the transaction's
   * connection, in the order issued. A statement issued on it after it ended is a bug (the
   * PostgreSQL adapter refuses it with `CW_STORE_QUERY`).
   */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T>;
}

/** Which engine a database runs on. */
export type SqlDialect = 'pglite' | 'postgres';

/** Most bytes one notification may carry (PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more). */
export const MAX_NOTIFICATION_BYTES = 7_999;

/**
 * Notifications between the processes that share one database: PostgreSQL's LISTEN/NOTIFY. A
 * notification is delivered to every listener of its channel, the sender's own included, in the
 * order sent; one sent while a listener was disconnected is lost to it.
 */
export interface SqlNotifications {
  /** Sends `payload` (at most {@link MAX_NOTIFICATION_BYTES} bytes) to every listener of `channel`. */
  notify(channel: string, payload: string): Promise<void>;
  /** Calls `onPayload` with each notification on `channel` from now on; resolves once listening, to the function that stops. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
}

/** An open database connection (or pool) that can be closed. */
export interface SqlDatabase extends SqlClient {
  readonly dialect: SqlDialect;
  /** Notifications between processes; only PostgreSQL has them (an embedded PGlite database is one process's). */
  readonly notifications?: SqlNotifications;
  /** Closes the database; PGlite flushes its files to the data dir. */
  close(): Promise<void>;
}

/** Postgres SQLSTATE of a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Wraps a driver error in a `ChangewatchError`. Only the driver's message and SQLSTATE are kept:
 * both drivers attach the query parameters to their errors, and those may hold secrets.
 */
export function toStoreError(error: unknown): ChangewatchError {
  const sqlState = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const constraint =
    typeof error === 'object' && error !== null && 'constraint' in error && typeof error.constraint === 'string'
      ? error.constraint
      : undefined;
  if (sqlState === UNIQUE_VIOLATION) {
    return createError('CW_STORE_CONFLICT', message, { sqlState, constraint });
  }
  return createError('CW_STORE_QUERY', message, sqlState === undefined ? undefined : { sqlState });
}
