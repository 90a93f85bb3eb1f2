/**
 * The notification outbox: one row per notification per endpoint, written (optionally in the same
 * transaction as the incident change that caused it) before any delivery is attempted. Delivery
 * workers lease rows, so a crashed worker's rows become deliverable again when the lease ends.
 * Scheduling times are epoch milliseconds from the delivery worker's clock.
 */
import type { Notification, NotificationAction } from '../../../contract/notification.ts';
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, toNumber, WhereBuilder } from './rows.ts';

/** Where an outbox row stands; `delivered` and `dead` are final. */
export type OutboxStatus = 'pending' | 'delivered' | 'dead';

/** A notification to enqueue for one endpoint. */
export interface OutboxEntryInput {
  /** The endpoint (notifier) name from the `notify:` config. */
  endpoint: string;
  /** Its `id` is the row id, reused as the idempotency key (`webhook-id`) on every attempt. */
  notification: Notification;
  /** Epoch ms; also the first time it is due. */
  createdAt: number;
}

/** A stored outbox row. */
export interface OutboxEntry {
  id: string;
  /** Insertion order; delivery per (endpoint, incident) follows it. */
  seq: number;
  endpoint: string;
  incidentId: string;
  action: NotificationAction;
  notification: Notification;
  status: OutboxStatus;
  /** Attempts made so far (a shutdown-aborted attempt does not count). */
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  deliveredAt?: number;
  /** The last failure's secret-free reason. */
  lastError?: string;
}

/** Filters for listing outbox rows; all optional and combined with AND. */
export interface OutboxFilter {
  status?: OutboxStatus[];
  endpoint?: string;
  incidentId?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** A notification_outbox row as both drivers return it. */
interface OutboxRow {
  id: string;
  seq: number | string;
  endpoint: string;
  incident_id: string;
  action: NotificationAction;
  notification: Notification;
  status: OutboxStatus;
  attempts: number;
  created_at: number | string;
  next_attempt_at: number | string;
  delivered_at: number | string | null;
  last_error: string | null;
}

/** Reads and writes the outbox. */
export class OutboxRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Adds pending rows in the given order; joins the caller's transaction when called inside one. */
  async enqueue(entries: readonly OutboxEntryInput[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const { endpoint, notification, createdAt } of entries) {
        await tx.query(
          `INSERT INTO notification_outbox (id, endpoint, incident_id, action, notification, created_at, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)`,
          [notification.id, endpoint, notification.incident.id, notification.action, JSON.stringify(notification), createdAt],
        );
      }
    });
  }

  /**
   * Leases up to `limit` due rows of one endpoint to `owner` until `now + leaseMs`. Only the oldest
   * pending row of each incident is eligible, so an incident's notifications go out in order: a
   * later one waits while an earlier one is leased, waiting for a retry, or failing.
   */
  async claimDue(claim: { endpoint: string; now: number; limit: number; owner: string; leaseMs: number }): Promise<OutboxEntry[]> {
    const rows = await this.sql.query<OutboxRow>(
      `UPDATE notification_outbox AS o SET lease_owner = $3, lease_until = $2::bigint + $5::bigint
       WHERE o.id IN (
           SELECT head.id FROM (
             SELECT DISTINCT ON (incident_id) id, seq, next_attempt_at, lease_until
             FROM notification_outbox
             WHERE status = 'pending' AND endpoint = $1
             ORDER BY incident_id, seq
           ) AS head
           WHERE head.next_attempt_at <= $2 AND (head.lease_until IS NULL OR head.lease_until <= $2)
           ORDER BY head.next_attempt_at, head.seq
           LIMIT $4)
         -- Re-checked under the row lock, so two workers never lease the same row.
         AND o.status = 'pending' AND (o.lease_until IS NULL OR o.lease_until <= $2)
       RETURNING *`,
      [claim.endpoint, claim.now, claim.owner, clampLimit(claim.limit), claim.leaseMs],
    );
    return rows.map(toEntry).sort((a, b) => a.seq - b.seq);
  }

  /** Marks a row delivered; returns false when it was already final (e.g. delivered by another worker). */
  async markDelivered(id: string, at: number): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE notification_outbox
       SET status = 'delivered', delivered_at = $2, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, at],
    );
    return rows.length === 1;
  }

  /** Records a failed attempt and when to try again. */
  async scheduleRetry(id: string, failure: { error: string; nextAttemptAt: number }): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE notification_outbox
       SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, failure.error, failure.nextAttemptAt],
    );
    return rows.length === 1;
  }

  /** Records a final failed attempt: the row is dead and later rows of its incident may proceed. */
  async markDead(id: string, failure: { error: string }): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE notification_outbox
       SET status = 'dead', attempts = attempts + 1, last_error = $2, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, failure.error],
    );
    return rows.length === 1;
  }

  /** Gives a leased row back without counting an attempt (the worker is shutting down). */
  async releaseLease(id: string): Promise<void> {
    await this.sql.query(
      "UPDATE notification_outbox SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND status = 'pending'",
      [id],
    );
  }

  /**
   * Deletes delivered and dead rows created before `before` (epoch ms) and returns how many. Pending
   * rows are never deleted, nor any row of an incident still open: the alert router derives what was
   * already paged from them. The audit log keeps the record of dead ones.
   */
  async deleteFinishedBefore(before: number): Promise<number> {
    const rows = await this.sql.query(
      `DELETE FROM notification_outbox o
        WHERE o.status IN ('delivered', 'dead') AND o.created_at < $1
          AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = o.incident_id AND i.status <> 'resolved')
        RETURNING o.id`,
      [before],
    );
    return rows.length;
  }

  /** The stored row, or `undefined`. */
  async get(id: string): Promise<OutboxEntry | undefined> {
    const rows = await this.sql.query<OutboxRow>('SELECT * FROM notification_outbox WHERE id = $1', [id]);
    return rows[0] && toEntry(rows[0]);
  }

  /** Rows matching `filter` in insertion order. */
  async list(filter: OutboxFilter = {}): Promise<OutboxEntry[]> {
    const where = new WhereBuilder();
    if (filter.status) where.add('status = ANY(?::text[])', filter.status);
    if (filter.endpoint !== undefined) where.add('endpoint = ?', filter.endpoint);
    if (filter.incidentId !== undefined) where.add('incident_id = ?', filter.incidentId);
    const limit = where.param(clampLimit(filter.limit));
    const rows = await this.sql.query<OutboxRow>(`SELECT * FROM notification_outbox ${where.toSql()} ORDER BY seq LIMIT ${limit}`, where.params);
    return rows.map(toEntry);
  }

  /** The newest row written for an incident (what was last told about it), whatever its status. */
  async latestFor(incidentId: string): Promise<OutboxEntry | undefined> {
    const rows = await this.sql.query<OutboxRow>('SELECT * FROM notification_outbox WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1', [incidentId]);
    return rows[0] === undefined ? undefined : toEntry(rows[0]);
  }

  /** Row counts per endpoint and status, for metrics and the dashboard. */
  async countByStatus(): Promise<Array<{ endpoint: string; status: OutboxStatus; count: number }>> {
    const rows = await this.sql.query<{ endpoint: string; status: OutboxStatus; count: number | string }>(
      'SELECT endpoint, status, count(*) AS count FROM notification_outbox GROUP BY endpoint, status ORDER BY endpoint, status',
    );
    return rows.map((row) => ({ endpoint: row.endpoint, status: row.status, count: toNumber(row.count) }));
  }
}

/** Maps a row to the entry type, leaving NULL columns out. */
function toEntry(row: OutboxRow): OutboxEntry {
  const entry: OutboxEntry = {
    id: row.id,
    seq: toNumber(row.seq),
    endpoint: row.endpoint,
    incidentId: row.incident_id,
    action: row.action,
    notification: row.notification,
    status: row.status,
    attempts: row.attempts,
    createdAt: toNumber(row.created_at),
    nextAttemptAt: toNumber(row.next_attempt_at),
  };
  if (row.delivered_at !== null) entry.deliveredAt = toNumber(row.delivered_at);
  if (row.last_error !== null) entry.lastError = row.last_error;
  return entry;
}
