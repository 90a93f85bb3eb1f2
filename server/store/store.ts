/**
 * The durable store: typed repositories over one Postgres schema that runs on embedded PGlite (the
 * default, files in the data directory the caller names) or on PostgreSQL when a database URL is
 * given. The configuration (server/config.ts) is what reads `CHANGEWATCH_DATA_DIR` and `DATABASE_URL`.
 */
import { loadMigrations, migrate } from './migrate.ts';
import { openPgliteDatabase } from './pglite-database.ts';
import { openPostgresDatabase } from './postgres-database.ts';
import { ActionRepository } from './repositories/actions.ts';
import { AlertRepository } from './repositories/alerts.ts';
import { AuditRepository } from './repositories/audit.ts';
import { ChangeOutboxRepository } from './repositories/change-outbox.ts';
import { ChangeRepository } from './repositories/changes.ts';
import { CheckpointRepository } from './repositories/checkpoints.ts';
import { IncidentRepository } from './repositories/incidents.ts';
import { OutboxRepository } from './repositories/outbox.ts';
import type { SqlClient, SqlDatabase, SqlDialect, SqlNotifications } from './sql-client.ts';

/** The repositories, bound either to the database or to one open transaction. */
export interface Repositories {
  alerts: AlertRepository;
  incidents: IncidentRepository;
  changes: ChangeRepository;
  actions: ActionRepository;
  outbox: OutboxRepository;
  /** Changes to announce (PagerDuty Change Events, Grafana annotations), in the outbox table. */
  changeOutbox: ChangeOutboxRepository;
  audit: AuditRepository;
  checkpoints: CheckpointRepository;
}

/** Where the store lives. */
export interface StoreOptions {
  /** PostgreSQL URL; when set, PGlite is not used. */
  databaseUrl?: string;
  /** With `databaseUrl`: the schema to use (must exist); default is the server's search_path. */
  schema?: string;
  /** With PGlite: data directory; in memory when undefined (tests only: nothing survives close). */
  dataDir?: string;
}

/** Builds the repositories over one client. */
function repositoriesFor(sql: SqlClient): Repositories {
  return {
    alerts: new AlertRepository(sql),
    incidents: new IncidentRepository(sql),
    changes: new ChangeRepository(sql),
    actions: new ActionRepository(sql),
    outbox: new OutboxRepository(sql),
    changeOutbox: new ChangeOutboxRepository(sql),
    audit: new AuditRepository(sql),
    checkpoints: new CheckpointRepository(sql),
  };
}

/** An open store. Use `transaction` to write several records atomically. */
export class Store implements Repositories {
  readonly alerts: AlertRepository;
  readonly incidents: IncidentRepository;
  readonly changes: ChangeRepository;
  readonly actions: ActionRepository;
  readonly outbox: OutboxRepository;
  readonly changeOutbox: ChangeOutboxRepository;
  readonly audit: AuditRepository;
  readonly checkpoints: CheckpointRepository;

  private constructor(private readonly db: SqlDatabase) {
    ({
      alerts: this.alerts,
      incidents: this.incidents,
      changes: this.changes,
      actions: this.actions,
      outbox: this.outbox,
      changeOutbox: this.changeOutbox,
      audit: this.audit,
      checkpoints: this.checkpoints,
    } = repositoriesFor(db));
  }

  /** Opens the database the options select, applies pending migrations and returns the store. */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const db =
      options.databaseUrl !== undefined
        ? await openPostgresDatabase({ connectionString: options.databaseUrl, ...(options.schema === undefined ? {} : { schema: options.schema }) })
        : await openPgliteDatabase(options.dataDir);
    try {
      await migrate(db, await loadMigrations());
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
    return new Store(db);
  }

  /** Notifications between the processes sharing this database (PostgreSQL only; see `SqlNotifications`). */
  get notifications(): SqlNotifications | undefined {
    return this.db.notifications;
  }

  /** Which engine this store runs on. */
  get dialect(): SqlDialect {
    return this.db.dialect;
  }

  /**
   * Runs `work` in one transaction: everything it writes through the given repositories commits
   * together or not at all (e.g. an incident update and the notifications it causes).
   */
  transaction<T>(work: (repositories: Repositories) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(repositoriesFor(tx)));
  }

  /** Re-applies migrations (a no-op when up to date) and returns the versions applied now. */
  async migrate(): Promise<number[]> {
    return migrate(this.db, await loadMigrations());
  }

  /** Closes the database; later calls fail with `CW_STORE_CLOSED`. */
  async close(): Promise<void> {
    await this.db.close();
  }
}
