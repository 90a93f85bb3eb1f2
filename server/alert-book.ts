/**
 * The latest version of every recent alert, for the API and for dashboards that connect mid-incident.
 */
import type { Alert, AlertStatus } from '../contract/alert.ts';

/** Filters of GET /api/v1/alerts. */
export interface AlertQuery {
  status?: AlertStatus;
  service?: string;
  limit?: number;
}

/** Keeps the newest version of each alert id; evicts the oldest resolved alerts beyond `capacity`. */
export class AlertBook {
  private readonly byId = new Map<string, Alert>();

  constructor(private readonly capacity = 2_000) {}

  /** Records an emission; an older version (by updatedAt) never replaces a newer one. */
  upsert(alert: Alert): void {
    const current = this.byId.get(alert.id);
    if (current && current.updatedAt > alert.updatedAt) return;
    // Delete first so Map order stays "least recently updated first" for eviction.
    this.byId.delete(alert.id);
    this.byId.set(alert.id, alert);
    if (this.byId.size > this.capacity) this.evict();
  }

  /** Alerts matching the query, most recently updated first. */
  list(query: AlertQuery = {}): Alert[] {
    const out: Alert[] = [];
    const limit = query.limit ?? 500;
    for (const alert of [...this.byId.values()].reverse()) {
      if (query.status && alert.status !== query.status) continue;
      if (query.service && alert.service !== query.service) continue;
      out.push(alert);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * What a dashboard gets on connect: every open alert, then the most recently updated resolved
   * ones, up to `limit` in all (more when more than `limit` are open: none of those is left out).
   */
  forDashboard(limit: number): Alert[] {
    const newestFirst = [...this.byId.values()].reverse();
    const open = newestFirst.filter((alert) => alert.status !== 'resolved');
    const resolved = newestFirst.filter((alert) => alert.status === 'resolved').slice(0, Math.max(0, limit - open.length));
    return [...open, ...resolved];
  }

  /** The alert with this id, if still kept. */
  get(id: string): Alert | undefined {
    return this.byId.get(id);
  }

  /** Alerts not resolved, by status: firing (nobody on it yet) and acknowledged (someone is). */
  countOpen(): { firing: number; acknowledged: number } {
    const counts = { firing: 0, acknowledged: 0 };
    for (const a of this.byId.values()) if (a.status !== 'resolved') counts[a.status]++;
    return counts;
  }

  private evict(): void {
    for (const [id, alert] of this.byId) {
      if (this.byId.size <= this.capacity) return;
      if (alert.status === 'resolved') this.byId.delete(id);
    }
    // Only open alerts left and still over capacity: drop the least recently updated.
    for (const id of this.byId.keys()) {
      if (this.byId.size <= this.capacity) return;
      this.byId.delete(id);
    }
  }
}
