/**
 * The embedded database: PGlite (Postgres compiled to WASM, in-process), persisted under a data
 * directory, or purely in memory when no directory is given (tests).
 */
import { mkdir } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { createError } from '../errors.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { toStoreError, type SqlClient, type SqlDatabase } from './sql-client.ts';

/**
 * Opens PGlite in `dataDir` (created if missing), or in memory when `dataDir` is undefined. PGlite
 * runs in a worker thread: it is WebAssembly, and on the service's own thread every query's
 * computation would stall detection (an alert storm cost most of the consumer's throughput).
 */
export async function openPgliteDatabase(dataDir?: string): Promise<SqlDatabase> {
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    lock = await lockDataDir(dataDir);
  }
  try {
    return new PgliteDatabase(await PgliteThread.start(dataDir), lock);
  } catch (error) {
    await lock?.release();
    throw createError('CW_STORE_UNAVAILABLE', `cannot open the embedded database${dataDir ? ` in ${dataDir}` : ''}`, undefined, {
      cause: error,
    });
  }
}

type Reply = { id: number; rows?: unknown[]; error?: { message: string; code?: string; constraint?: string } };

/** The worker thread running PGlite, and the request/reply messages to it. */
class PgliteThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: unknown) => void }>();
  closed = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error) waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code, constraint: reply.error.constraint }));
      else waiter.resolve(reply.rows ?? []);
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => this.failAll(new Error('the embedded database thread exited')));
  }

  /** Starts the thread and waits until PGlite is open. */
  static async start(dataDir: string | undefined): Promise<PgliteThread> {
    const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dataDir } });
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => fail(new Error(`the embedded database thread exited with ${code}`));
      const fail = (error: Error): void => {
        worker.off('message', onReady);
        worker.off('exit', onExit);
        reject(error);
      };
      const onReady = (): void => {
        worker.off('error', fail);
        worker.off('exit', onExit);
        resolve();
      };
      worker.once('message', onReady);
      worker.once('error', fail);
      worker.once('exit', onExit);
    });
    return new PgliteThread(worker);
  }

  request(op: 'query' | 'exec' | 'close', sql = '', params: readonly unknown[] = []): Promise<unknown[]> {
    if (this.closed && op !== 'close') return Promise.reject(createError('CW_STORE_CLOSED', 'the store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, sql, params });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.request('close');
    this.closed = true;
    await this.worker.terminate();
  }

  private failAll(error: unknown): void {
    this.closed = true;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** Runs statements on the thread; inside a transaction, on the connection the transaction holds. */
class PgliteClient implements SqlClient {
  constructor(protected readonly thread: PgliteThread) {}

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      return (await this.thread.request('query', sql, params)) as Row[];
    } catch (error) {
      throw isStoreClosed(error) ? error : toStoreError(error);
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      await this.thread.request('exec', sql);
    } catch (error) {
      throw isStoreClosed(error) ? error : toStoreError(error);
    }
  }

  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return work(this);
  }
}

/**
 * One transaction's view of the connection: it refuses statements issued after the transaction
 * ended, which would otherwise run on the one connection inside whatever transaction holds it next.
 */
class PgliteTransaction implements SqlClient {
  private ended = false;

  constructor(private readonly client: PgliteClient) {}

  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.ended ? Promise.reject(endedError()) : this.client.query<Row>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.ended ? Promise.reject(endedError()) : this.client.exec(sql);
  }

  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return work(this);
  }

  /** Marks the transaction over (before its COMMIT or ROLLBACK is issued). */
  end(): void {
    this.ended = true;
  }
}

/** The error of a statement issued on a transaction that already ended (the same as PostgreSQL's adapter). */
function endedError(): Error {
  return createError('CW_STORE_QUERY', 'a statement was issued on a transaction that has already ended (after COMMIT or ROLLBACK)');
}

/**
 * The database itself. PGlite is one connection, so statements are serialized here: a transaction
 * holds the connection from BEGIN to COMMIT, and everything else waits its turn.
 */
class PgliteDatabase implements SqlDatabase {
  readonly dialect = 'pglite' as const;
  private readonly client: PgliteClient;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly thread: PgliteThread,
    private readonly lock: DataDirLock | undefined,
  ) {
    this.client = new PgliteClient(thread);
  }

  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.exclusive(() => this.client.query<Row>(sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(() => this.client.exec(sql));
  }

  transaction<T>(work: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.client.exec('BEGIN');
      const tx = new PgliteTransaction(this.client);
      try {
        const result = await work(tx);
        tx.end();
        await this.client.exec('COMMIT');
        return result;
      } catch (error) {
        tx.end();
        await this.client.exec('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.turn.catch(() => undefined);
    await this.thread.close();
    await this.lock?.release();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.thread.closed) return Promise.reject(createError('CW_STORE_CLOSED', 'the store is closed'));
    const result = this.turn.then(work);
    this.turn = result.catch(() => undefined);
    return result;
  }
}

function isStoreClosed(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'CW_STORE_CLOSED';
}
