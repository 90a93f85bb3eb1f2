/**
 * Durable actions: rollback requests and their decisions, and freezes. Status changes go through
 * compare-and-set `transition`, so two operators approving at once cannot both win. Approved
 * actions are a delivery queue: the delivery worker leases them (`claimApproved`) the way it leases
 * outbox rows, so two changewatch processes on one PostgreSQL never send the same one at once.
 */
import type { AuthorType, ChangeAuthor, ChangeType, EvidenceKind } from '../../../contract/events.ts';
import type { FreezeScope, RollbackStatus } from '../../../contract/automation.ts';
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

/** The statuses a freeze goes through: `executed` while in force, then `lifted`. */
export type FreezeStatus = Extract<ActionStatus, 'executed' | 'lifted'>;

/** What a rollback action keeps in `details`. */
export interface RollbackDetails {
  alertId: string;
  environment: string;
  /** The incident's service, where the anomaly was seen (the action's `service` is the change's). */
  anomalyService: string;
  fromVersion?: string;
  toVersion?: string;
  confidence?: number;
  changeType?: ChangeType;
  author?: ChangeAuthor;
  /** The change's pull request and commit, when known. */
  links?: { pr?: string; commit?: string };
  /** The policy's one-sentence account of the change and its evidence. */
  summary: string;
  /** Evidence snapshot at decision time. */
  evidence: string[];
  /** The lines of `evidence` that weighed against the change, when any did. */
  evidenceAgainst?: string[];
  evidenceKinds: EvidenceKind[];
  reasons: string[];
  /** ISO-8601 time it was approved (by a human or the policy). */
  approvedAt?: string;
  /** Delivery attempts made so far. */
  attempts?: number;
  /** The last failed attempt's secret-free reason. */
  lastError?: string;
  /** Set when the kill switch cancelled it after approval; such a change is not proposed again. */
  cancelledByKillSwitch?: boolean;
}

/** What a freeze action keeps in `details`. */
export interface FreezeDetails {
  scope: FreezeScope;
  agent: string;
  authorTypes: AuthorType[];
  changeType: string;
  alertId: string;
  confidence: number;
  evidence: string[];
  /** ISO-8601, once lifted. */
  liftedAt?: string;
  liftReason?: string;
}

/** The columns every action has, whatever its kind. */
interface ActionFields {
  id: string;
  service: string;
  changeId?: string;
  incidentId?: string;
  /** Who asked for it: a user, a token name, or `policy`. */
  requestedBy: string;
  /** Who decided the latest status, when someone did. */
  decidedBy?: string;
  /** Why it is in its current status. */
  reason: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
  /** ISO-8601 deadline for a pending decision. */
  expiresAt?: string;
}

/** A rollback action and its decision trail's latest state (the full trail is in the audit log). */
export interface RollbackRecord extends ActionFields {
  kind: 'rollback';
  status: RollbackStatus;
  details: RollbackDetails;
}

/** A freeze action and its latest state. */
export interface FreezeRecord extends ActionFields {
  kind: 'freeze';
  status: FreezeStatus;
  details: FreezeDetails;
}

/** One stored action; `kind` says what its `details` hold. */
export type ActionRecord = RollbackRecord | FreezeRecord;

/** The stored action type of one kind. */
export type ActionOf<K extends ActionKind> = Extract<ActionRecord, { kind: K }>;

/** A compare-and-set status change of an action of kind `K`. */
export interface ActionTransition<K extends ActionKind> {
  /** The change applies only while the action is in one of these statuses. */
  from: ReadonlyArray<ActionOf<K>['status']>;
  to: ActionOf<K>['status'];
  reason: string;
  decidedBy?: string;
  /** ISO-8601 time of the change. */
  at: string;
  /** Merged into the stored details (shallow). */
  details?: Partial<ActionOf<K>['details']>;
}

/** Filters for listing and counting actions of kind `K`; all optional and combined with AND. */
export interface ActionFilter<K extends ActionKind = ActionKind> {
  kind?: K;
  status?: readonly ActionStatus[];
  service?: string;
  changeId?: string;
  incidentId?: string;
  /** Only actions created at or after this ISO-8601 time. */
  createdSince?: string;
  /** Default 100, at most 1000 (ignored by `count`). */
  limit?: number;
}

/** A lease request for approved actions due for delivery (times in epoch ms of the worker's clock). */
export interface ApprovedClaim<K extends ActionKind> {
  kind: K;
  now: number;
  limit: number;
  owner: string;
  leaseMs: number;
}

/** An actions row as both drivers return it. */
type ActionRow = {
  id: string;
  service: string;
  change_id: string | null;
  incident_id: string | null;
  requested_by: string;
  decided_by: string | null;
  reason: string;
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
} & ({ kind: 'rollback'; status: RollbackStatus; details: RollbackDetails } | { kind: 'freeze'; status: FreezeStatus; details: FreezeDetails });

/** True when `action` is of `kind` (narrows its type). */
export function isActionOf<K extends ActionKind>(action: ActionRecord, kind: K): action is ActionOf<K> {
  return action.kind === kind;
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

  /** The stored action, or `undefined`; with `kind`, only an action of that kind. */
  async get<K extends ActionKind = ActionKind>(id: string, kind?: K): Promise<ActionOf<K> | undefined> {
    const rows = await this.sql.query<ActionRow>('SELECT * FROM actions WHERE id = $1', [id]);
    return rows.map(toAction).find((action): action is ActionOf<K> => kind === undefined || isActionOf(action, kind));
  }

  /**
   * Moves an action of `kind` to `to` only if it is currently in one of `from`, ending any delivery
   * lease; returns the updated action, or `undefined` when there is no such action or someone else
   * changed it first.
   */
  async transition<K extends ActionKind>(id: string, kind: K, change: ActionTransition<K>): Promise<ActionOf<K> | undefined> {
    const rows = await this.sql.query<ActionRow>(
      `UPDATE actions SET status = $3, reason = $4, decided_by = COALESCE($5, decided_by), updated_at = $6,
              details = details || $7::jsonb, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND kind = $2 AND status = ANY($8::text[])
       RETURNING *`,
      [id, kind, change.to, change.reason, change.decidedBy ?? null, change.at, JSON.stringify(change.details ?? {}), change.from],
    );
    return rows.map(toAction).find((action): action is ActionOf<K> => isActionOf(action, kind));
  }

  /**
   * Leases up to `limit` approved actions of one kind that are due (never attempted, or their retry
   * time has come) and not leased by a live worker, oldest first, to `owner` until `now + leaseMs`.
   * Rows another transaction is leasing are skipped, so concurrent workers never lease the same one.
   */
  async claimApproved<K extends ActionKind>(claim: ApprovedClaim<K>): Promise<Array<ActionOf<K>>> {
    const rows = await this.sql.query<ActionRow>(
      `UPDATE actions SET lease_owner = $3, lease_until = $2::bigint + $5::bigint
       WHERE id IN (
           SELECT id FROM actions
           WHERE kind = $1 AND status = 'approved'
             AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
             AND (lease_until IS NULL OR lease_until <= $2)
           ORDER BY created_at, id
           LIMIT $4
           FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [claim.kind, claim.now, claim.owner, clampLimit(claim.limit), claim.leaseMs],
    );
    return rows
      .map(toAction)
      .filter((action): action is ActionOf<K> => isActionOf(action, claim.kind))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * Records a failed delivery attempt of an approved action: merges `details`, sets when it is due
   * again (epoch ms) and ends the lease. Returns false when it is no longer approved.
   */
  async scheduleRetry<K extends ActionKind>(
    id: string,
    kind: K,
    retry: { at: string; nextAttemptAt: number; details: Partial<ActionOf<K>['details']> },
  ): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE actions SET details = details || $3::jsonb, next_attempt_at = $4, updated_at = $5, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND kind = $2 AND status = 'approved' RETURNING id`,
      [id, kind, JSON.stringify(retry.details), retry.nextAttemptAt, retry.at],
    );
    return rows.length === 1;
  }

  /** Gives a leased approved action back without recording an attempt (the worker is shutting down). */
  async releaseLease(id: string): Promise<void> {
    await this.sql.query("UPDATE actions SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND status = 'approved'", [id]);
  }

  /** Actions matching `filter`, newest first. */
  async list<K extends ActionKind = ActionKind>(filter: ActionFilter<K> = {}): Promise<Array<ActionOf<K>>> {
    const where = buildWhere(filter);
    const limit = where.param(clampLimit(filter.limit));
    const rows = await this.sql.query<ActionRow>(
      `SELECT * FROM actions ${where.toSql()} ORDER BY created_at DESC, id LIMIT ${limit}`,
      where.params,
    );
    const { kind } = filter;
    return rows.map(toAction).filter((action): action is ActionOf<K> => kind === undefined || isActionOf(action, kind));
  }

  /**
   * Every action matching `filter`, newest first, without a limit: for working sets that must be
   * seen whole (pending rollbacks to expire, freezes in force, the decisions on one change), which
   * the guardrails keep small.
   */
  async listAll<K extends ActionKind = ActionKind>(filter: Omit<ActionFilter<K>, 'limit'> = {}): Promise<Array<ActionOf<K>>> {
    const where = buildWhere(filter);
    const rows = await this.sql.query<ActionRow>(`SELECT * FROM actions ${where.toSql()} ORDER BY created_at DESC, id`, where.params);
    const { kind } = filter;
    return rows.map(toAction).filter((action): action is ActionOf<K> => kind === undefined || isActionOf(action, kind));
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
  const fields: ActionFields = {
    id: row.id,
    service: row.service,
    requestedBy: row.requested_by,
    reason: row.reason,
    createdAt: isoString(row.created_at),
    updatedAt: isoString(row.updated_at),
  };
  if (row.change_id !== null) fields.changeId = row.change_id;
  if (row.incident_id !== null) fields.incidentId = row.incident_id;
  if (row.decided_by !== null) fields.decidedBy = row.decided_by;
  const expiresAt = optionalIsoString(row.expires_at);
  if (expiresAt !== undefined) fields.expiresAt = expiresAt;
  return row.kind === 'rollback'
    ? { ...fields, kind: row.kind, status: row.status, details: row.details }
    : { ...fields, kind: row.kind, status: row.status, details: row.details };
}
