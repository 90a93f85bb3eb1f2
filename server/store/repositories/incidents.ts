/** Durable incidents: groups of related alerts with their lifecycle. */
import type { Severity } from '../../../contract/alert.ts';
import type { Incident, IncidentStatus } from '../../../contract/incident.ts';
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
}

/** Reads and writes incidents. */
export class IncidentRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Inserts or replaces an incident. Opening a second unresolved incident for a group key that
   * already has one fails with `CW_STORE_CONFLICT`.
   */
  async upsert(incident: Incident): Promise<void> {
    await this.sql.query(
      `INSERT INTO incidents (id, group_key, group_labels, status, severity, title, service, environment, alert_ids,
                              started_at, updated_at, resolved_at, acknowledged_by, acknowledged_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14)
       ON CONFLICT (id) DO UPDATE SET
         group_key = EXCLUDED.group_key, group_labels = EXCLUDED.group_labels, status = EXCLUDED.status,
         severity = EXCLUDED.severity, title = EXCLUDED.title, service = EXCLUDED.service,
         environment = EXCLUDED.environment, alert_ids = EXCLUDED.alert_ids, started_at = EXCLUDED.started_at,
         updated_at = EXCLUDED.updated_at, resolved_at = EXCLUDED.resolved_at,
         acknowledged_by = EXCLUDED.acknowledged_by, acknowledged_at = EXCLUDED.acknowledged_at`,
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
   * Every incident the alert router still has business with: all open ones and those resolved at or
   * after `resolvedSince` (ISO-8601), oldest change first. Not limited: this is the router's working
   * set, which it must load whole after a restart.
   */
  async listInProgress(resolvedSince: string): Promise<Incident[]> {
    const rows = await this.sql.query<IncidentRow>(`SELECT * FROM incidents WHERE status <> 'resolved' OR updated_at >= $1 ORDER BY updated_at, id`, [resolvedSince]);
    return rows.map(toIncident);
  }

  /** How many incidents are not resolved, per status, for the metrics (statuses with none are left out). */
  async countOpen(): Promise<Array<{ status: IncidentStatus; count: number }>> {
    const rows = await this.sql.query<{ status: IncidentStatus; count: number | string }>(`SELECT status, count(*) AS count FROM incidents WHERE status <> 'resolved' GROUP BY status`);
    return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
  }
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
