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

/** The `byAgent` key of a change whose agent is not named: an AI-assisted change without `agent` or `model`. */
export const UNNAMED_AGENT = 'unnamed agent';

/**
 * The AI agent behind a change, for "per AI agent" figures: an AI-authored change's `agent` (else
 * its author, which is the agent itself), an AI-assisted change's `agent` or `model` (never the
 * human who used it), and `undefined` for a human's change.
 */
export function agentOf(author: ChangeEvent['author']): string | undefined {
  if (author.type === 'ai_agent') return author.agent ?? author.name;
  if (author.type === 'ai_assisted') return author.agent ?? author.model ?? UNNAMED_AGENT;
  return undefined;
}

/** Change failure rate of the changes in `range`, by author type and per AI agent (see {@link agentOf}), from incidents' top suspects. */
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
    const agent = agentOf(change.author);
    if (agent !== undefined) count((byAgent[agent] ??= empty()), failed);
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
