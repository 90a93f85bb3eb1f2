/**
 * PostgreSQL through `pg`: used when `DATABASE_URL` is set. Runs the same SQL as the embedded
 * PGlite database; an optional `schema` pins every pooled connection's search_path (tests use one
 * fresh schema per run so parallel runs never collide).
 */
import pg from 'pg';
import { createError } from '../errors.ts';
import { toStoreError, type SqlClient, type SqlDatabase } from './sql-client.ts';

/** Options for a PostgreSQL connection pool. */
export interface PostgresOptions {
  /** A libpq URL, e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  connectionString: string;
  /** Schema to put first on the search_path of every connection; must already exist. */
  schema?: string;
  /** Pool size (default 5). */
  maxConnections?: number;
}

/** Opens a pool and checks that the server answers, failing with `CW_STORE_UNAVAILABLE` otherwise. */
export async function openPostgresDatabase(options: PostgresOptions): Promise<SqlDatabase> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 5,
    connectionTimeoutMillis: 5_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(options.schema)}` }),
  });
  // An idle pooled connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw createError('CW_STORE_UNAVAILABLE', `cannot reach PostgreSQL at ${describeServer(options.connectionString)}`, undefined, {
      cause: error,
    });
  }
  return new PostgresDatabase(pool);
}

/** Quotes an SQL identifier (schema name). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** host:port/database of a connection string, without user or password, for error messages. */
function describeServer(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.host}${url.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/** Adapts a pool or one checked-out connection to `SqlClient`. */
class PostgresClient implements SqlClient {
  constructor(private readonly target: pg.Pool | pg.PoolClient) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const result = await this.target.query(sql, params as unknown[]);
      return result.rows as Row[];
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async exec(sql: string): Promise<void> {
    // Without parameters pg uses the simple query protocol, which accepts several statements.
    await this.query(sql);
  }

  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return work(this);
  }
}

/** The pool: each transaction checks out one connection for its whole duration. */
class PostgresDatabase extends PostgresClient implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  private closed = false;

  constructor(private readonly pool: pg.Pool) {
    super(pool);
  }

  override async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    this.assertOpen();
    return super.query<Row>(sql, params);
  }

  override async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let connection: pg.PoolClient;
    try {
      connection = await this.pool.connect();
    } catch (error) {
      throw createError('CW_STORE_UNAVAILABLE', 'cannot get a PostgreSQL connection', undefined, { cause: error });
    }
    const tx = new PostgresClient(connection);
    try {
      await tx.exec('BEGIN');
      const result = await work(tx);
      await tx.exec('COMMIT');
      connection.release();
      return result;
    } catch (error) {
      // If ROLLBACK itself fails the connection is broken: destroy it rather than return it to the pool.
      await tx.exec('ROLLBACK').then(
        () => connection.release(),
        (rollbackError: unknown) => connection.release(rollbackError instanceof Error ? rollbackError : true),
      );
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw createError('CW_STORE_CLOSED', 'the store is closed');
  }
}
