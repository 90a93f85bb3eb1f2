/**
 * Change failure rate by author type and per AI agent: changes linked to an incident ÷ changes.
 */
import type { ChangeStatsResponse, ChangeFailureStats } from '../../contract/alert.ts';
import { AUTHOR_TYPES, type ChangeEvent } from '../../contract/events.ts';

/** What change statistics need to know about an incident: its suspects (an alert qualifies). */
export interface IncidentVerdict {
  suspects: ReadonlyArray<{ changeId: string; confidence: number }>;
}

/** An event-time range, epoch ms, inclusive of `from` and exclusive of `to`. */
export interface TimeRange {
  from: number;
  to: number;
}

/** A change is linked to an incident when it is that incident's top suspect with at least this confidence. */
export const LINK_CONFIDENCE = 0.5;

/** Change failure rate of the changes in `range`, by author type and per AI agent (agent, else author name), from incidents' top suspects. */
export function computeChangeStats(changes: Iterable<ChangeEvent>, incidents: Iterable<IncidentVerdict>, range: TimeRange): ChangeStatsResponse {
  const linked = new Set<string>();
  for (const incident of incidents) {
    const top = incident.suspects[0];
    if (top && top.confidence >= LINK_CONFIDENCE) linked.add(top.changeId);
  }
  const byAuthorType = Object.fromEntries(AUTHOR_TYPES.map((t) => [t, empty()])) as ChangeStatsResponse['byAuthorType'];
  const byAgent: Record<string, ChangeFailureStats> = {};
  const seen = new Set<string>();
  for (const change of changes) {
    if (!(change.timestamp >= range.from && change.timestamp < range.to) || seen.has(change.id)) continue;
    seen.add(change.id);
    const failed = linked.has(change.id);
    const type = byAuthorType[change.author.type];
    if (type) count(type, failed);
    if (change.author.type !== 'human') count((byAgent[change.author.agent ?? change.author.name] ??= empty()), failed);
  }
  return { from: iso(range.from), to: iso(range.to), byAuthorType, byAgent };
}

function empty(): ChangeFailureStats {
  return { changes: 0, linkedToIncident: 0, failureRate: 0 };
}

function count(stats: ChangeFailureStats, failed: boolean): void {
  stats.changes++;
  if (failed) stats.linkedToIncident++;
  stats.failureRate = stats.linkedToIncident / stats.changes;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : new Date(0).toISOString();
}
