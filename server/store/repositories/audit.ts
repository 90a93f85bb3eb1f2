/** The append-only audit log: who or what did which action, when, why, with the evidence. */
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, isoString, toNumber, WhereBuilder } from './rows.ts';

/** Largest page `list` returns (the most `limit` may ask for). */
const MAX_PAGE_SIZE = 1000;

/** An entry to append. */
export interface AuditEntryInput {
  /** A user, a token name, or a component such as `policy` or `delivery`. */
  actor: string;
  /** Dotted verb, e.g. `incident.acknowledge`, `rollback.suppressed`, `notification.dead`. */
  action: string;
  /** What it acted on, e.g. `incident:inc-1`. */
  target?: string;
  /** Why, in a sentence a human reviewer understands. */
  reason?: string;
  /** Snapshot of the evidence the decision was based on. */
  evidence?: unknown;
  /** ISO-8601; defaults to the database's clock. */
  at?: string;
}

/** A stored audit entry. */
export interface AuditEntry {
  /** Increasing with insertion order; use as a pagination cursor. */
  id: number;
  at: string;
  actor: string;
  action: string;
  target?: string;
  reason?: string;
  evidence?: unknown;
}

/** Filters for listing audit entries; all optional and combined with AND. */
export interface AuditFilter {
  actor?: string;
  /** Exact action, or a prefix ending in `.` (e.g. `rollback.`). */
  action?: string;
  target?: string;
  /** ISO-8601 bounds on `at`: since inclusive, until exclusive. */
  since?: string;
  until?: string;
  /** Only entries with an id below this cursor (the next page of a newest-first listing). */
  beforeId?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** An audit_log row as both drivers return it. */
interface AuditRow {
  id: number | string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  reason: string | null;
  evidence: unknown;
}

/** Appends to and reads the audit log; the database rejects updates and deletes. */
export class AuditRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Appends one entry and returns it as stored. */
  async append(entry: AuditEntryInput): Promise<AuditEntry> {
    const rows = await this.sql.query<AuditRow>(
      `INSERT INTO audit_log (at, actor, action, target, reason, evidence)
       VALUES (COALESCE($1::timestamptz, now()), $2, $3, $4, $5, $6::jsonb)
       RETURNING *`,
      [
        entry.at ?? null,
        entry.actor,
        entry.action,
        entry.target ?? null,
        entry.reason ?? null,
        entry.evidence === undefined ? null : JSON.stringify(entry.evidence),
      ],
    );
    return toEntry(rows[0]!);
  }

  /** Entries matching `filter`, newest first. */
  async list(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const where = new WhereBuilder();
    if (filter.actor !== undefined) where.add('actor = ?', filter.actor);
    if (filter.action !== undefined) {
      if (filter.action.endsWith('.')) where.add('starts_with(action, ?)', filter.action);
      else where.add('action = ?', filter.action);
    }
    if (filter.target !== undefined) where.add('target = ?', filter.target);
    if (filter.since !== undefined) where.add('at >= ?', filter.since);
    if (filter.until !== undefined) where.add('at < ?', filter.until);
    if (filter.beforeId !== undefined) where.add('id < ?', filter.beforeId);
    const limit = where.param(clampLimit(filter.limit, 100, MAX_PAGE_SIZE));
    const rows = await this.sql.query<AuditRow>(
      `SELECT * FROM audit_log ${where.toSql()} ORDER BY id DESC LIMIT ${limit}`,
      where.params,
    );
    return rows.map(toEntry);
  }

  /**
   * Every entry matching `filter`, newest first, read `pageSize` (at most 1000) at a time: for
   * readers that rebuild state from the log and must not miss an old entry.
   */
  async listAll(filter: Omit<AuditFilter, 'beforeId' | 'limit'> = {}, pageSize = MAX_PAGE_SIZE): Promise<AuditEntry[]> {
    const limit = clampLimit(pageSize, MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    const all: AuditEntry[] = [];
    for (;;) {
      const oldest = all.at(-1);
      const page = await this.list({ ...filter, limit, ...(oldest === undefined ? {} : { beforeId: oldest.id }) });
      all.push(...page);
      if (page.length < limit) return all;
    }
  }
}

/** Maps a row to the entry type, leaving NULL columns out. */
function toEntry(row: AuditRow): AuditEntry {
  const entry: AuditEntry = { id: toNumber(row.id), at: isoString(row.at), actor: row.actor, action: row.action };
  if (row.target !== null) entry.target = row.target;
  if (row.reason !== null) entry.reason = row.reason;
  if (row.evidence !== null) entry.evidence = row.evidence;
  return entry;
}
