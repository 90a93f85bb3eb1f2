/** Durable record of the production changes changewatch has seen. */
import type { ChangeEvent } from '../../../contract/events.ts';
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, WhereBuilder } from './rows.ts';

/** Filters for listing changes; all optional and combined with AND. */
export interface ChangeFilter {
  service?: string;
  environment?: string;
  /** Only changes at or after this event time, epoch ms. */
  since?: number;
  /** Only changes before this event time, epoch ms. */
  until?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** Reads and writes changes seen. */
export class ChangeRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Stores a change; a redelivered change with the same id replaces the earlier copy. */
  async upsert(change: ChangeEvent): Promise<void> {
    await this.sql.query(
      `INSERT INTO changes (id, type, service, environment, author_type, occurred_at, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (id) DO UPDATE SET
         type = EXCLUDED.type, service = EXCLUDED.service, environment = EXCLUDED.environment,
         author_type = EXCLUDED.author_type, occurred_at = EXCLUDED.occurred_at, data = EXCLUDED.data`,
      [change.id, change.type, change.service, change.environment, change.author.type, change.timestamp, JSON.stringify(change)],
    );
  }

  /** The stored change, or `undefined`. */
  async get(id: string): Promise<ChangeEvent | undefined> {
    const rows = await this.sql.query<{ data: ChangeEvent }>('SELECT data FROM changes WHERE id = $1', [id]);
    return rows[0]?.data;
  }

  /** Changes matching `filter`, newest event time first. */
  async listRecent(filter: ChangeFilter = {}): Promise<ChangeEvent[]> {
    const where = new WhereBuilder();
    if (filter.service !== undefined) where.add('service = ?', filter.service);
    if (filter.environment !== undefined) where.add('environment = ?', filter.environment);
    if (filter.since !== undefined) where.add('occurred_at >= ?', filter.since);
    if (filter.until !== undefined) where.add('occurred_at < ?', filter.until);
    const limit = where.param(clampLimit(filter.limit));
    const rows = await this.sql.query<{ data: ChangeEvent }>(
      `SELECT data FROM changes ${where.toSql()} ORDER BY occurred_at DESC, id LIMIT ${limit}`,
      where.params,
    );
    return rows.map((row) => row.data);
  }
}
