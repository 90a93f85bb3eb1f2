/** Durable incidents: groups of related alerts with their lifecycle. */
import type { Severity } from '../../../contract/alert.ts';
import type { Incident, IncidentStatus } from '../../../contract/incident.ts';
import type { NotificationAction } from '../../../contract/notification.ts';
import type { SqlClient } from '../sql-client.ts';
import { clampLimit, isoString, optionalIsoString, WhereBuilder } from './rows.ts';

/** Filters for listing incidents; all optional and combined with AND. */
export interface IncidentFilter {
  status?: IncidentStatus[];
  severity?: Severity[];
  service?: string;
  /** Only incidents updated at or after this ISO-8601 time. */
  updatedSince?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/**
 * What has been told about one incident, and when (wall-clock epoch ms): the `notify_state` column.
 * The alert router's notify stage reads and writes it (server/alerts/notify-state.ts).
 */
export interface IncidentNotifyState {
  /** When a router first saw the incident open (for rows from before this state was stored: when it was loaded). */
  openedAt: number;
  /** Event time (epoch ms) of the first routed emission of the incident; unset until one is. */
  openedEventAt?: number;
  /** Event time (epoch ms) of the newest emission of the incident routed so far. */
  lastEventAt?: number;
  /** The last notification written to the outbox, if any. */
  lastAction?: NotificationAction;
  lastSentAt?: number;
  /** How many alerts the incident had when it last triggered. */
  alertsAtLastSend: number;
  /** The action whose suppression is already in the audit log, so it is recorded once. */
  suppressedAction?: NotificationAction;
  /** When a router saw every alert of the incident resolve: the flap window runs from here. */
  resolvedSeenAt?: number;
  /**
   * Alerts still firing when a person resolved the incident: their emissions are recorded but not
   * routed until they resolve, or they would page again for what someone closed.
   */
  detached?: string[];
}

/** An incident with what has been told about it (absent on rows from before that was stored). */
export interface StoredIncident {
  incident: Incident;
  notify?: IncidentNotifyState;
}

/** An incidents row as both drivers return it. */
interface IncidentRow {
  id: string;
  group_key: string;
  group_labels: Record<string, string>;
  status: IncidentStatus;
  severity: Severity;
  title: string;
  service: string;
  environment: string;
  alert_ids: string[];
  started_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  notify_state: IncidentNotifyState | null;
}

/** Reads and writes incidents. */
export class IncidentRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Inserts or replaces an incident, and what has been told about it when `notify` is given (else the
   * stored state is kept). Opening a second unresolved incident for a group key that already has one
   * fails with `CW_STORE_CONFLICT`.
   */
  async upsert(incident: Incident, notify?: IncidentNotifyState): Promise<void> {
    await this.sql.query(
      `INSERT INTO incidents (id, group_key, group_labels, status, severity, title, service, environment, alert_ids,
                              started_at, updated_at, resolved_at, acknowledged_by, acknowledged_at, notify_state)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15::jsonb)
       ON CONFLICT (id) DO UPDATE SET
         group_key = EXCLUDED.group_key, group_labels = EXCLUDED.group_labels, status = EXCLUDED.status,
         severity = EXCLUDED.severity, title = EXCLUDED.title, service = EXCLUDED.service,
         environment = EXCLUDED.environment, alert_ids = EXCLUDED.alert_ids, started_at = EXCLUDED.started_at,
         updated_at = EXCLUDED.updated_at, resolved_at = EXCLUDED.resolved_at,
         acknowledged_by = EXCLUDED.acknowledged_by, acknowledged_at = EXCLUDED.acknowledged_at,
         notify_state = COALESCE(EXCLUDED.notify_state, incidents.notify_state)`,
      [
        incident.id,
        incident.groupKey,
        JSON.stringify(incident.groupLabels),
        incident.status,
        incident.severity,
        incident.title,
        incident.service,
        incident.environment,
        JSON.stringify(incident.alertIds),
        incident.startedAt,
        incident.updatedAt,
        incident.resolvedAt ?? null,
        incident.acknowledgedBy ?? null,
        incident.acknowledgedAt ?? null,
        notify === undefined ? null : JSON.stringify(notify),
      ],
    );
  }

  /** The stored incident, or `undefined`. */
  async get(id: string): Promise<Incident | undefined> {
    const rows = await this.sql.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
    return rows[0] && toIncident(rows[0]);
  }

  /** The unresolved incident for a group key, if any (new alerts of that group join it). */
  async findOpenByGroupKey(groupKey: string): Promise<Incident | undefined> {
    const rows = await this.sql.query<IncidentRow>(
      "SELECT * FROM incidents WHERE group_key = $1 AND status <> 'resolved'",
      [groupKey],
    );
    return rows[0] && toIncident(rows[0]);
  }

  /**
   * The incident with its notify state, its row locked until the caller's transaction ends: the
   * decisions about it are taken one instance at a time. With `skipLocked`, an incident another
   * transaction holds reads as absent (a timer skips it this time rather than wait).
   */
  async lock(id: string, options: { skipLocked?: boolean } = {}): Promise<StoredIncident | undefined> {
    const rows = await this.sql.query<IncidentRow>(`SELECT * FROM incidents WHERE id = $1 FOR UPDATE${options.skipLocked ? ' SKIP LOCKED' : ''}`, [id]);
    return rows[0] && toStored(rows[0]);
  }

  /** The newest incident holding the alert, locked (see `lock`). */
  async lockByAlert(alertId: string): Promise<StoredIncident | undefined> {
    const rows = await this.sql.query<IncidentRow>(
      'SELECT * FROM incidents WHERE alert_ids @> jsonb_build_array($1::text) ORDER BY updated_at DESC, id LIMIT 1 FOR UPDATE',
      [alertId],
    );
    return rows[0] && toStored(rows[0]);
  }

  /** The unresolved incident of a group key, locked (see `lock`). */
  async lockOpenByGroupKey(groupKey: string): Promise<StoredIncident | undefined> {
    const rows = await this.sql.query<IncidentRow>("SELECT * FROM incidents WHERE group_key = $1 AND status <> 'resolved' FOR UPDATE", [groupKey]);
    return rows[0] && toStored(rows[0]);
  }

  /**
   * The incident of a group key that a router saw resolve at or after `resolvedSeenSince` (epoch ms,
   * the start of the flap window) and that no person resolved, locked (see `lock`): a re-fire of the
   * group re-opens it.
   */
  async lockReopenable(groupKey: string, resolvedSeenSince: number): Promise<StoredIncident | undefined> {
    const rows = await this.sql.query<IncidentRow>(
      `SELECT * FROM incidents WHERE group_key = $1 AND status = 'resolved' AND (notify_state->>'resolvedSeenAt')::bigint >= $2
       ORDER BY updated_at DESC, id LIMIT 1 FOR UPDATE`,
      [groupKey, resolvedSeenSince],
    );
    return rows[0] && toStored(rows[0]);
  }

  /** Incidents matching `filter`, most recently updated first. */
  async list(filter: IncidentFilter = {}): Promise<Incident[]> {
    const where = new WhereBuilder();
    if (filter.status) where.add('status = ANY(?::text[])', filter.status);
    if (filter.severity) where.add('severity = ANY(?::text[])', filter.severity);
    if (filter.service !== undefined) where.add('service = ?', filter.service);
    if (filter.updatedSince !== undefined) where.add('updated_at >= ?', filter.updatedSince);
    const limit = where.param(clampLimit(filter.limit));
    const rows = await this.sql.query<IncidentRow>(
      `SELECT * FROM incidents ${where.toSql()} ORDER BY updated_at DESC, id LIMIT ${limit}`,
      where.params,
    );
    return rows.map(toIncident);
  }

  /**
   * Every incident the alert router still has business with: all open ones, and those resolved at or
   * after `resolvedSince` (ISO-8601) whose resolve is still to send (the last notification was a
   * trigger or an acknowledge), whose flap window started at or after `flapSince` (epoch ms), or
   * whose notify state predates its storing; oldest change first. Not limited: this is the router's
   * working set, re-read every few seconds, so settled incidents are left out here rather than
   * read and dropped.
   */
  async listInProgress(resolvedSince: string, flapSince: number): Promise<StoredIncident[]> {
    const rows = await this.sql.query<IncidentRow>(
      `SELECT * FROM incidents
       WHERE status <> 'resolved'
          OR (updated_at >= $1 AND (notify_state IS NULL
                                    OR notify_state->>'lastAction' IN ('trigger', 'acknowledge')
                                    OR (notify_state->>'resolvedSeenAt')::bigint >= $2))
       ORDER BY updated_at, id`,
      [resolvedSince, flapSince],
    );
    return rows.map(toStored);
  }

  /** How many incidents are not resolved, per status, for the metrics (statuses with none are left out). */
  async countOpen(): Promise<Array<{ status: IncidentStatus; count: number }>> {
    const rows = await this.sql.query<{ status: IncidentStatus; count: number | string }>(`SELECT status, count(*) AS count FROM incidents WHERE status <> 'resolved' GROUP BY status`);
    return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
  }
}

/** Maps a row to the incident and its notify state. */
function toStored(row: IncidentRow): StoredIncident {
  const incident = toIncident(row);
  return row.notify_state === null ? { incident } : { incident, notify: row.notify_state };
}

/** Maps a row to the contract type, leaving absent optional fields out. */
function toIncident(row: IncidentRow): Incident {
  const incident: Incident = {
    id: row.id,
    groupKey: row.group_key,
    groupLabels: row.group_labels,
    status: row.status,
    severity: row.severity,
    title: row.title,
    service: row.service,
    environment: row.environment,
    alertIds: row.alert_ids,
    startedAt: isoString(row.started_at),
    updatedAt: isoString(row.updated_at),
  };
  const resolvedAt = optionalIsoString(row.resolved_at);
  if (resolvedAt !== undefined) incident.resolvedAt = resolvedAt;
  if (row.acknowledged_by !== null) incident.acknowledgedBy = row.acknowledged_by;
  const acknowledgedAt = optionalIsoString(row.acknowledged_at);
  if (acknowledgedAt !== undefined) incident.acknowledgedAt = acknowledgedAt;
  return incident;
}
