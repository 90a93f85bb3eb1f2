import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isChangewatchError } from '../../../server/errors.ts';
import { loadMigrations, migrate } from '../../../server/store/migrate.ts';
import { openPgliteDatabase } from '../../../server/store/pglite-database.ts';
import { Store } from '../../../server/store/store.ts';
import { STORE_BACKENDS } from './backends.ts';
import { makeAlert, makeIncident } from './fixtures.ts';

const postgres = STORE_BACKENDS.find((backend) => backend.name === 'postgres')!;

describe('durability and migrations', () => {
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'changewatch-store-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('keeps committed data in the PGlite data dir across close and reopen', async () => {
    const dataDir = join(await tempDir(), 'data');
    const first = await Store.open({ dataDir });
    // A second store on the same files would corrupt them: refused while the first is open.
    await expect(Store.open({ dataDir })).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_STORE_UNAVAILABLE'));
    await first.transaction(async (tx) => {
      await tx.alerts.upsert(makeAlert({ id: 'a-durable' }));
      await tx.incidents.upsert(makeIncident({ id: 'inc-durable', alertIds: ['a-durable'] }));
      await tx.audit.append({ actor: 'test', action: 'incident.open', target: 'incident:inc-durable' });
    });
    await first.close();

    const reopened = await Store.open({ dataDir });
    try {
      expect(await reopened.migrate()).toEqual([]);
      expect(await reopened.alerts.get('a-durable')).toEqual(makeAlert({ id: 'a-durable' }));
      expect(await reopened.incidents.get('inc-durable')).toEqual(makeIncident({ id: 'inc-durable', alertIds: ['a-durable'] }));
      expect((await reopened.audit.list()).map((e) => e.action)).toEqual(['incident.open']);
    } finally {
      await reopened.close();
    }
  });

  it('records each migration once and applies only new ones', async () => {
    const db = await openPgliteDatabase();
    try {
      const builtIn = await loadMigrations();
      expect(builtIn.map((m) => m.version)).toEqual(builtIn.map((_, i) => i + 1));
      expect(await migrate(db, builtIn)).toEqual(builtIn.map((m) => m.version));
      expect(await migrate(db, builtIn)).toEqual([]);
      const next = { version: builtIn.length + 1, name: 'add_note', sql: 'ALTER TABLE incidents ADD COLUMN note text;' };
      expect(await migrate(db, [...builtIn, next])).toEqual([next.version]);
      expect(await migrate(db, [...builtIn, next])).toEqual([]);
      expect(await db.query('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual([
        ...builtIn.map((m) => ({ version: m.version, name: m.name })),
        { version: next.version, name: 'add_note' },
      ]);
      // An older build must not run against a schema it does not know.
      await expect(migrate(db, builtIn)).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_STORE_MIGRATION'));
    } finally {
      await db.close();
    }
  });

  it('rolls back a failing migration entirely', async () => {
    const db = await openPgliteDatabase();
    try {
      const broken = { version: 1, name: 'broken', sql: 'CREATE TABLE t (id int); SELECT no_such_function();' };
      await expect(migrate(db, [broken])).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_STORE_MIGRATION'));
      // Nothing of it remains, not even the bookkeeping table created in the same transaction.
      expect(await db.query("SELECT to_regclass('t') AS t, to_regclass('schema_migrations') AS m")).toEqual([{ t: null, m: null }]);
    } finally {
      await db.close();
    }
  });

  it('loads migration files in version order and rejects duplicate versions', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '002_second.sql'), 'SELECT 2;');
    await writeFile(join(dir, '001_first.sql'), 'SELECT 1;');
    await writeFile(join(dir, 'README.md'), 'not a migration');
    expect((await loadMigrations(`${dir}/`)).map((m) => m.name)).toEqual(['first', 'second']);
    await writeFile(join(dir, '002_again.sql'), 'SELECT 2;');
    await expect(loadMigrations(`${dir}/`)).rejects.toSatisfy((error) => isChangewatchError(error, 'CW_STORE_MIGRATION'));
  });

  it('applies migrations once when several processes start on one PostgreSQL schema at the same time', async () => {
    const database = await postgres.create();
    try {
      const stores = await Promise.all([database.open(), database.open(), database.open()]);
      const versions = (await loadMigrations()).map((m) => m.version);
      for (const store of stores) expect(await store.migrate()).toEqual([]);
      const raw = (stores[0] as unknown as { db: { query(sql: string): Promise<Array<{ version: number }>> } }).db;
      expect((await raw.query('SELECT version FROM schema_migrations ORDER BY version')).map((row) => row.version)).toEqual(versions);
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await database.cleanup();
    }
  });

  it('fails with CW_STORE_UNAVAILABLE and no credentials in the message when PostgreSQL is unreachable', async () => {
    const error = await Store.open({ databaseUrl: 'postgres://admin:hunter2@127.0.0.1:1/nowhere' }).catch((e: unknown) => e);
    expect(isChangewatchError(error, 'CW_STORE_UNAVAILABLE')).toBe(true);
    expect(String((error as Error).message)).not.toContain('hunter2');
    expect((error as Error).message).toContain('127.0.0.1:1/nowhere');
  });
});
