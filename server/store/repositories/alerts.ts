/** Durable alerts: every emission upserts by id, and the version with the latest `updatedAt` wins. */
import type { Alert, AlertStatus, Severity } from '../../../contract/alert.ts';
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, isoString, WhereBuilder } from './rows.ts';

/** Filters for listing alerts; all optional and combined with AND. */
export interface AlertFilter {
  status?: AlertStatus[];
  severity?: Severity[];
  service?: string;
  environment?: string;
  /** Only alerts updated at or after this ISO-8601 time. */
  updatedSince?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** Reads and writes alerts. */
export class AlertRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Stores an alert emission. A replayed or out-of-order older emission (earlier `updatedAt`)
   * never overwrites a newer one; returns whether this emission was stored.
   */
  async upsert(alert: Alert): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO alerts (id, status, severity, service, environment, metric, started_at, updated_at, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
       ON CONFLICT (id) DO UPDATE SET
         status = EXCLUDED.status, severity = EXCLUDED.severity, service = EXCLUDED.service,
         environment = EXCLUDED.environment, metric = EXCLUDED.metric, started_at = EXCLUDED.started_at,
         updated_at = EXCLUDED.updated_at, data = EXCLUDED.data
       WHERE alerts.updated_at <= EXCLUDED.updated_at
       RETURNING id`,
      [alert.id, alert.status, alert.severity, alert.service, alert.environment, alert.metric, alert.startedAt, alert.updatedAt, JSON.stringify(alert)],
    );
    return rows.length === 1;
  }

  /** The stored alert, or `undefined`. */
  async get(id: string): Promise<Alert | undefined> {
    const rows = await this.sql.query<{ data: Alert }>('SELECT data FROM alerts WHERE id = $1', [id]);
    return rows[0]?.data;
  }

  /** Several alerts by id, in the order of `ids` (missing ones are skipped). */
  async getMany(ids: readonly string[]): Promise<Alert[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.query<{ data: Alert }>('SELECT data FROM alerts WHERE id = ANY($1::text[])', [ids]);
    const byId = new Map(rows.map((row) => [row.data.id, row.data]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** The stored `updatedAt` (ISO-8601) of each of `ids` that exists: a cheap check of whether a cached emission is still the newest. */
  async updatedAtOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.sql.query<{ id: string; updated_at: Date | string }>('SELECT id, updated_at FROM alerts WHERE id = ANY($1::text[])', [ids]);
    return new Map(rows.map((row) => [row.id, isoString(row.updated_at)]));
  }

  /** Alerts matching `filter`, most recently updated first. */
  async list(filter: AlertFilter = {}): Promise<Alert[]> {
    const where = new WhereBuilder();
    if (filter.status) where.add('status = ANY(?::text[])', filter.status);
    if (filter.severity) where.add('severity = ANY(?::text[])', filter.severity);
    if (filter.service !== undefined) where.add('service = ?', filter.service);
    if (filter.environment !== undefined) where.add('environment = ?', filter.environment);
    if (filter.updatedSince !== undefined) where.add('updated_at >= ?', filter.updatedSince);
    const limit = where.param(clampLimit(filter.limit));
    const rows = await this.sql.query<{ data: Alert }>(
      `SELECT data FROM alerts ${where.toSql()} ORDER BY updated_at DESC, id LIMIT ${limit}`,
      where.params,
    );
    return rows.map((row) => row.data);
  }
}
