/**
 * Versioned schema migrations: `migrations/NNN_name.sql`, applied in order at open, each recorded
 * in `schema_migrations`. Applying is idempotent and safe when several processes start at once.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createError, isChangewatchError } from '../errors.ts';
import type { SqlClient } from './sql-client.ts';

/** One schema migration. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Directory holding the built-in migrations. */
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Matches `001_initial.sql`. */
const MIGRATION_FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Advisory lock key held while migrating, so concurrent starts apply each migration once. */
const MIGRATION_LOCK_KEY = 4_102_202_611;

/** Loads the built-in migrations sorted by version; a duplicate version is a build error. */
export async function loadMigrations(directory = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(directory)).sort()) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) continue;
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw createError('CW_STORE_MIGRATION', `duplicate migration version ${version}`, { file });
    }
    migrations.push({ version, name: match[2]!, sql: await readFile(new URL(file, `file://${directory}`), 'utf8') });
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded, all in one transaction, and returns their versions.
 * Refuses to run against a database migrated by a newer build (unknown versions), since this
 * build's SQL may no longer match that schema.
 */
export async function migrate(db: SqlClient, migrations: readonly Migration[]): Promise<number[]> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const applied = new Set(
        (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => row.version),
      );
      const known = new Set(migrations.map((m) => m.version));
      const unknown = [...applied].filter((version) => !known.has(version));
      if (unknown.length > 0) {
        throw createError('CW_STORE_MIGRATION', `the database has migrations this build does not know (${unknown.join(', ')}); upgrade changewatch`, {
          unknown,
        });
      }
      const pending = migrations.filter((m) => !applied.has(m.version));
      for (const migration of pending) {
        await tx.exec(migration.sql);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      }
      return pending.map((m) => m.version);
    });
  } catch (error) {
    if (isChangewatchError(error, 'CW_STORE_MIGRATION')) throw error;
    throw createError('CW_STORE_MIGRATION', `schema migration failed: ${error instanceof Error ? error.message : String(error)}`, undefined, {
      cause: error,
    });
  }
}
