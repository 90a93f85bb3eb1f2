/**
 * PostgreSQL through `pg`: used when `DATABASE_URL` is set. Runs the same SQL as the embedded
 * PGlite database; an optional `schema` pins every pooled connection's search_path (tests use one
 * fresh schema per run so parallel runs never collide).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { createError } from '../errors.ts';
import { toStoreError, type SqlClient, type SqlDatabase, type SqlNotifications } from './sql-client.ts';

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
  const connection = {
    connectionString: options.connectionString,
    connectionTimeoutMillis: 5_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdentifier(options.schema)}` }),
  };
  const pool = new pg.Pool({ ...connection, max: options.maxConnections ?? 5 });
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
  return new PostgresDatabase(pool, new PostgresNotifications(pool, connection, options.schema));
}

/** How long a listener whose connection dropped waits before it connects again. */
const RELISTEN_DELAY_MS = 1_000;

/**
 * LISTEN/NOTIFY. Channels are database-wide, so a channel's name is scoped by the schema (two
 * deployments, or two test runs, in one database do not hear each other). Each listener holds one
 * connection of its own outside the pool, and connects again when it drops.
 */
class PostgresNotifications implements SqlNotifications {
  constructor(
    private readonly pool: pg.Pool,
    private readonly connection: pg.ClientConfig,
    private readonly schema: string | undefined,
  ) {}

  async notify(channel: string, payload: string): Promise<void> {
    await runStatement(this.pool, 'SELECT pg_notify($1, $2)', [this.scoped(channel), payload]);
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    const name = this.scoped(channel);
    let client: pg.Client | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const reconnectLater = (): void => {
      if (!stopped && retry === undefined) retry = setTimeout(() => ((retry = undefined), void connect().catch(reconnectLater)), RELISTEN_DELAY_MS);
    };
    const connect = async (): Promise<void> => {
      const next = new pg.Client(this.connection);
      next.on('notification', (message) => {
        if (message.channel === name && message.payload !== undefined) onPayload(message.payload);
      });
      next.on('error', () => {
        // The connection dropped: listen again on a new one (what was sent meanwhile is lost to us).
        if (client === next) client = undefined;
        void next.end().catch(() => {});
        reconnectLater();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${quoteIdentifier(name)}`);
      } catch (error) {
        await next.end().catch(() => {});
        throw error;
      }
      if (stopped) await next.end();
      else client = next;
    };
    try {
      await connect();
    } catch (error) {
      throw toStoreError(error);
    }
    return async () => {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    };
  }

  /** The channel's name in this schema; hashed when it would pass PostgreSQL's 63-byte identifier limit. */
  private scoped(channel: string): string {
    if (this.schema === undefined) return channel;
    const name = `${channel}:${this.schema}`;
    return Buffer.byteLength(name) <= 63 ? name : `${channel}:${createHash('sha256').update(this.schema).digest('hex').slice(0, 16)}`;
  }
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

/** Runs one statement on a pool or a checked-out connection, with driver errors wrapped. */
async function runStatement<Row>(target: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[]): Promise<Row[]> {
  try {
    const result = await target.query(sql, params as unknown[]);
    return result.rows as Row[];
  } catch (error) {
    throw toStoreError(error);
  }
}

/**
 * One open transaction on the connection it checked out. Its statements run one at a time, in the
 * order they were issued, even when the caller issues several at once (`Promise.all` over
 * repositories): `pg` must not be handed a query while the connection is still executing one
 * (deprecated in pg 8, refused in pg 9). Once COMMIT or ROLLBACK is issued it refuses statements,
 * since the connection goes back to the pool and may then belong to another transaction.
 */
class PostgresTransaction implements SqlClient {
  /** Settles once every statement issued so far has finished. */
  private tail: Promise<unknown> = Promise.resolve();
  private ended = false;

  constructor(private readonly connection: pg.PoolClient) {}

  query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    if (this.ended) {
      return Promise.reject(createError('CW_STORE_QUERY', 'a statement was issued on a transaction that has already ended (after COMMIT or ROLLBACK)'));
    }
    return this.enqueue<Row>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    // Without parameters pg uses the simple query protocol, which accepts several statements.
    await this.query(sql);
  }

  /** Joins this transaction (no savepoint). */
  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return work(this);
  }

  /** Issues COMMIT or ROLLBACK after the statements already issued, and refuses any issued later. */
  async end(statement: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    this.ended = true;
    await this.enqueue(statement, []);
  }

  /** Runs a statement once every statement issued before it has finished, whether it succeeded or not. */
  private enqueue<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const result = this.tail.then(() => runStatement<Row>(this.connection, sql, params));
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * The pool. A statement outside a transaction runs on whichever connection the pool hands it (one
 * statement per checkout, so concurrent callers never share a connection); each transaction checks
 * out one connection for its whole duration.
 */
class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly notifications: SqlNotifications,
  ) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.assertOpen();
    return runStatement<Row>(this.pool, sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let connection: pg.PoolClient;
    try {
      connection = await this.pool.connect();
    } catch (error) {
      throw createError('CW_STORE_UNAVAILABLE', 'cannot get a PostgreSQL connection', undefined, { cause: error });
    }
    const tx = new PostgresTransaction(connection);
    let result: T;
    try {
      await tx.query('BEGIN');
      result = await work(tx);
      await tx.end('COMMIT');
    } catch (error) {
      // If ROLLBACK itself fails the connection is broken: destroy it rather than return it to the pool.
      await tx.end('ROLLBACK').then(
        () => connection.release(),
        (rollbackError: unknown) => connection.release(rollbackError instanceof Error ? rollbackError : true),
      );
      throw error;
    }
    connection.release();
    return result;
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
