/**
 * The two databases every store test runs against: in-memory PGlite and the real PostgreSQL server,
 * each test file in its own fresh schema (dropped afterwards) so parallel runs never collide.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { quoteIdentifier } from '../../../server/store/postgres-database.ts';
import { Store } from '../../../server/store/store.ts';

/** The PostgreSQL the tests use; override with CHANGEWATCH_TEST_DATABASE_URL. */
export const TEST_DATABASE_URL = process.env.CHANGEWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A way to get a fresh store (and reopen it on the same data). */
export interface StoreBackend {
  name: 'pglite' | 'postgres';
  /** Whether `open` can be called again to reopen the same data (a restart). */
  persistent: boolean;
  /** Prepares an empty database; returns how to open stores on it and how to clean up. */
  create(): Promise<{ open(): Promise<Store>; cleanup(): Promise<void> }>;
}

/** PGlite in memory: each `create` is a new database; reopening is not possible (see the durability test for files). */
const pgliteBackend: StoreBackend = {
  name: 'pglite',
  persistent: false,
  async create() {
    return { open: () => Store.open(), cleanup: async () => {} };
  },
};

/** Real PostgreSQL in a throwaway schema; fails loudly (never skips) when the server is unreachable. */
const postgresBackend: StoreBackend = {
  name: 'postgres',
  persistent: true,
  async create() {
    const schema = `cw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
    try {
      await admin.connect();
    } catch (error) {
      throw new Error(
        `PostgreSQL store tests need a server at ${TEST_DATABASE_URL} (set CHANGEWATCH_TEST_DATABASE_URL to use another): ${(error as Error).message}`,
      );
    }
    await admin.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    return {
      open: () => Store.open({ databaseUrl: TEST_DATABASE_URL, schema }),
      async cleanup() {
        await admin.query(`DROP SCHEMA ${quoteIdentifier(schema)} CASCADE`);
        await admin.end();
      },
    };
  },
};

/** PGlite persisted in a temp dir (removed afterwards), for restart tests; slower to open than in-memory. */
const persistentPgliteBackend: StoreBackend = {
  name: 'pglite',
  persistent: true,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'changewatch-pglite-'));
    return {
      open: () => Store.open({ dataDir: join(dir, 'data') }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

/** Both backends, for `describe.each`. */
export const STORE_BACKENDS: StoreBackend[] = [pgliteBackend, postgresBackend];

/** Both backends with reopenable data, for restart tests. */
export const PERSISTENT_STORE_BACKENDS: StoreBackend[] = [persistentPgliteBackend, postgresBackend];

/** Opens one fresh store on `backend` before the suite's tests (handing it to `opened`) and closes and drops it after them. */
export function storeForSuite(backend: StoreBackend, opened: (store: Store) => void): void {
  let store: Store | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const database = await backend.create();
    cleanup = database.cleanup;
    store = await database.open();
    opened(store);
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });
}
