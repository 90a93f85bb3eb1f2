/**
 * Changes waiting to be announced (PagerDuty Change Events, Grafana annotations), kept in the
 * notification outbox table so they share its leases, retry bookkeeping, pruning and metrics.
 *
 * A change row is told apart from an incident notification by its endpoint, `changes:<name>`
 * (endpoint names cannot hold `:`, so no notifier's rows are ever claimed as changes or the
 * reverse), its `incident_id`, `change:<change id>` (so each change is ordered on its own), and its
 * action, `change`. Its id is deterministic per (endpoint, change id) and inserted with
 * `ON CONFLICT DO NOTHING`: however many instances see a change, and however often the changes
 * topic is re-read, one row exists and so one delivery is made. Marking delivered, retrying, dead
 * and releasing are by id: use the `OutboxRepository` methods.
 */
import type { ChangeNotification } from '../../../contract/change-notification.ts';
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, toNumber } from './rows.ts';

/** The outbox `action` of change rows. */
export const CHANGE_ACTION = 'change';

/** The outbox endpoint of an endpoint's change rows (also its delivery source's name). */
export function changeEndpoint(endpoint: string): string {
  return `changes:${endpoint}`;
}

/** A change to announce to one endpoint. */
export interface ChangeOutboxInput {
  /** The notifier name from `notify:` (not the `changes:` form). */
  endpoint: string;
  notification: ChangeNotification;
  /** Epoch ms; also the first time it is due. */
  createdAt: number;
}

/** A leased change row. */
export interface ChangeOutboxEntry {
  id: string;
  seq: number;
  /** The `changes:<name>` form. */
  endpoint: string;
  notification: ChangeNotification;
  attempts: number;
  createdAt: number;
}

/** A notification_outbox row holding a change, as both drivers return it. */
interface ChangeRow {
  id: string;
  seq: number | string;
  endpoint: string;
  notification: ChangeNotification;
  attempts: number;
  created_at: number | string;
}

/** Writes and leases change rows of the outbox. */
export class ChangeOutboxRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Adds the rows not already there (by id) and returns how many were new; joins the caller's
   * transaction when called inside one.
   */
  async enqueueOnce(entries: readonly ChangeOutboxInput[]): Promise<number> {
    let inserted = 0;
    await this.sql.transaction(async (tx) => {
      for (const { endpoint, notification, createdAt } of entries) {
        const rows = await tx.query(
          `INSERT INTO notification_outbox (id, endpoint, incident_id, action, notification, created_at, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [notification.id, changeEndpoint(endpoint), `change:${notification.change.id}`, CHANGE_ACTION, JSON.stringify(notification), createdAt],
        );
        inserted += rows.length;
      }
    });
    return inserted;
  }

  /** Leases up to `limit` due change rows of one endpoint (`changes:<name>`) to `owner` until `now + leaseMs`. */
  async claimDue(claim: { endpoint: string; now: number; limit: number; owner: string; leaseMs: number }): Promise<ChangeOutboxEntry[]> {
    const rows = await this.sql.query<ChangeRow>(
      `UPDATE notification_outbox AS o SET lease_owner = $3, lease_until = $2::bigint + $5::bigint
       WHERE o.id IN (
           SELECT id FROM notification_outbox
           WHERE status = 'pending' AND endpoint = $1 AND action = '${CHANGE_ACTION}'
             AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
           ORDER BY next_attempt_at, seq
           LIMIT $4)
         -- Re-checked under the row lock, so two workers never lease the same row.
         AND o.status = 'pending' AND (o.lease_until IS NULL OR o.lease_until <= $2)
       RETURNING id, seq, endpoint, notification, attempts, created_at`,
      [claim.endpoint, claim.now, claim.owner, clampLimit(claim.limit), claim.leaseMs],
    );
    return rows
      .map((row) => ({ id: row.id, seq: toNumber(row.seq), endpoint: row.endpoint, notification: row.notification, attempts: row.attempts, createdAt: toNumber(row.created_at) }))
      .sort((a, b) => a.seq - b.seq);
  }
}
