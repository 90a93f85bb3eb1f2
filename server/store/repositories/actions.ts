/**
 * Durable actions: rollback requests and their decisions (and, later, freezes). Status changes go
 * through compare-and-set `transition`, so two operators approving at once cannot both win.
 */
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, isoString, optionalIsoString, toNumber, WhereBuilder } from './rows.ts';

/** Kinds of action changewatch records. */
export const ACTION_KINDS = ['rollback', 'freeze'] as const;
/** A kind of action. */
export type ActionKind = (typeof ACTION_KINDS)[number];

/** Where an action stands. */
export const ACTION_STATUSES = ['pending', 'approved', 'denied', 'expired', 'suppressed', 'dry_run', 'executed', 'failed', 'lifted'] as const;
/**
 * Where an action stands: `pending` awaits a human; `approved`/`denied` by a human (or `policy`);
 * `expired` when nobody decided in time; `suppressed` by a guardrail; `dry_run` when only recorded;
 * `executed`/`failed` once sent to the CD system; `lifted` for a freeze a human removed.
 */
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** One action and its decision trail's latest state (the full trail is in the audit log). */
export interface ActionRecord {
  id: string;
  kind: ActionKind;
  status: ActionStatus;
  service: string;
  changeId?: string;
  incidentId?: string;
  /** Who asked for it: a user, a token name, or `policy`. */
  requestedBy: string;
  /** Who decided the latest status, when someone did. */
  decidedBy?: string;
  /** Why it is in its current status. */
  reason: string;
  /** Kind-specific data, e.g. from/to version and the evidence snapshot. */
  details: Record<string, unknown>;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
  /** ISO-8601 deadline for a pending decision. */
  expiresAt?: string;
}

/** A compare-and-set status change. */
export interface ActionTransition {
  /** The change applies only while the action is in one of these statuses. */
  from: readonly ActionStatus[];
  to: ActionStatus;
  reason: string;
  decidedBy?: string;
  /** ISO-8601 time of the change. */
  at: string;
  /** Merged into the stored details (shallow). */
  details?: Record<string, unknown>;
}

/** Filters for listing and counting actions; all optional and combined with AND. */
export interface ActionFilter {
  kind?: ActionKind;
  status?: readonly ActionStatus[];
  service?: string;
  changeId?: string;
  incidentId?: string;
  /** Only actions created at or after this ISO-8601 time. */
  createdSince?: string;
  /** Default 100, at most 1000 (ignored by `count`). */
  limit?: number;
}

/** An actions row as both drivers return it. */
interface ActionRow {
  id: string;
  kind: ActionKind;
  status: ActionStatus;
  service: string;
  change_id: string | null;
  incident_id: string | null;
  requested_by: string;
  decided_by: string | null;
  reason: string;
  details: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
}

/** Reads and writes actions. */
export class ActionRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Inside a transaction: waits until no other transaction is deciding about actions, and holds
   * that until this one ends. Guardrails read counts (rate limits, cooldown, one freeze per
   * service) and then insert; without the lock two changewatch processes on one PostgreSQL could
   * both pass a limit by one. A transaction-scoped advisory lock, so a crash never leaves it held.
   */
  async lockDecisions(): Promise<void> {
    await this.sql.query("SELECT pg_advisory_xact_lock(hashtext('changewatch.actions.decisions'))");
  }

  /** Records a new action; a duplicate id fails with `CW_STORE_CONFLICT`. */
  async insert(action: ActionRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO actions (id, kind, status, service, change_id, incident_id, requested_by, decided_by, reason, details,
                            created_at, updated_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)`,
      [
        action.id,
        action.kind,
        action.status,
        action.service,
        action.changeId ?? null,
        action.incidentId ?? null,
        action.requestedBy,
        action.decidedBy ?? null,
        action.reason,
        JSON.stringify(action.details),
        action.createdAt,
        action.updatedAt,
        action.expiresAt ?? null,
      ],
    );
  }

  /** The stored action, or `undefined`. */
  async get(id: string): Promise<ActionRecord | undefined> {
    const rows = await this.sql.query<ActionRow>('SELECT * FROM actions WHERE id = $1', [id]);
    return rows[0] && toAction(rows[0]);
  }

  /**
   * Moves an action to `to` only if it is currently in one of `from`; returns the updated action,
   * or `undefined` when it does not exist or someone else changed it first.
   */
  async transition(id: string, change: ActionTransition): Promise<ActionRecord | undefined> {
    const rows = await this.sql.query<ActionRow>(
      `UPDATE actions SET status = $2, reason = $3, decided_by = COALESCE($4, decided_by), updated_at = $5,
              details = details || $6::jsonb
       WHERE id = $1 AND status = ANY($7::text[])
       RETURNING *`,
      [id, change.to, change.reason, change.decidedBy ?? null, change.at, JSON.stringify(change.details ?? {}), change.from],
    );
    return rows[0] && toAction(rows[0]);
  }

  /** Actions matching `filter`, newest first. */
  async list(filter: ActionFilter = {}): Promise<ActionRecord[]> {
    const where = buildWhere(filter);
    const limit = where.param(clampLimit(filter.limit));
    const rows = await this.sql.query<ActionRow>(
      `SELECT * FROM actions ${where.toSql()} ORDER BY created_at DESC, id LIMIT ${limit}`,
      where.params,
    );
    return rows.map(toAction);
  }

  /** How many actions match `filter` (rate limits: e.g. executed rollbacks of a service in the last hour). */
  async count(filter: ActionFilter = {}): Promise<number> {
    const where = buildWhere(filter);
    const rows = await this.sql.query<{ n: number | string }>(`SELECT count(*) AS n FROM actions ${where.toSql()}`, where.params);
    return toNumber(rows[0]?.n ?? 0);
  }
}

/** The WHERE clause shared by `list` and `count`. */
function buildWhere(filter: ActionFilter): WhereBuilder {
  const where = new WhereBuilder();
  if (filter.kind !== undefined) where.add('kind = ?', filter.kind);
  if (filter.status) where.add('status = ANY(?::text[])', filter.status);
  if (filter.service !== undefined) where.add('service = ?', filter.service);
  if (filter.changeId !== undefined) where.add('change_id = ?', filter.changeId);
  if (filter.incidentId !== undefined) where.add('incident_id = ?', filter.incidentId);
  if (filter.createdSince !== undefined) where.add('created_at >= ?', filter.createdSince);
  return where;
}

/** Maps a row to the record type, leaving absent optional fields out. */
function toAction(row: ActionRow): ActionRecord {
  const action: ActionRecord = {
    id: row.id,
    kind: row.kind,
    status: row.status,
    service: row.service,
    requestedBy: row.requested_by,
    reason: row.reason,
    details: row.details,
    createdAt: isoString(row.created_at),
    updatedAt: isoString(row.updated_at),
  };
  if (row.change_id !== null) action.changeId = row.change_id;
  if (row.incident_id !== null) action.incidentId = row.incident_id;
  if (row.decided_by !== null) action.decidedBy = row.decided_by;
  const expiresAt = optionalIsoString(row.expires_at);
  if (expiresAt !== undefined) action.expiresAt = expiresAt;
  return action;
}
