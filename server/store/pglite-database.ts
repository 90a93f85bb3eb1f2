/**
 * The embedded database: PGlite (Postgres compiled to WASM, in-process), persisted under a data
 * directory, or purely in memory when no directory is given (tests).
 */
import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { createError } from '../errors.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { toStoreError, type SqlClient, type SqlDatabase } from './sql-client.ts';

/** Opens PGlite in `dataDir` (created if missing), or in memory when `dataDir` is undefined. */
export async function openPgliteDatabase(dataDir?: string): Promise<SqlDatabase> {
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    lock = await lockDataDir(dataDir);
  }
  try {
    return new PgliteDatabase(await PGlite.create(dataDir), lock);
  } catch (error) {
    await lock?.release();
    throw createError('CW_STORE_UNAVAILABLE', `cannot open the embedded database${dataDir ? ` in ${dataDir}` : ''}`, undefined, {
      cause: error,
    });
  }
}

/** Adapts a PGlite instance or one of its transactions to `SqlClient`. */
class PgliteClient implements SqlClient {
  constructor(protected readonly target: PGlite | Transaction) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const result = await this.target.query<Row>(sql, params as unknown[]);
      return result.rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.target.exec(sql);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return work(this);
  }
}

/** The database itself: PGlite is single-connection and queues statements behind an open transaction. */
class PgliteDatabase extends PgliteClient implements SqlDatabase {
  readonly dialect = 'pglite' as const;

  constructor(
    private readonly db: PGlite,
    private readonly lock: DataDirLock | undefined,
  ) {
    super(db);
  }

  override async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    this.assertOpen();
    return super.query<Row>(sql, params);
  }

  override async exec(sql: string): Promise<void> {
    this.assertOpen();
    return super.exec(sql);
  }

  override async transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.db.transaction((tx) => work(new PgliteClient(tx)));
  }

  private assertOpen(): void {
    if (this.db.closed) throw createError('CW_STORE_CLOSED', 'the store is closed');
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
    await this.lock?.release();
  }
}
