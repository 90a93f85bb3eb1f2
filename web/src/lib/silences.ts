/**
 * Silences as the dashboard handles them: the end time a person picks (1 h, 4 h, or until a UTC
 * time), matchers in words, which silences are in force now, and which of them mute an incident —
 * the server's rule (contract/silence.ts): an incident is muted while every one of its
 * alerts matches an active silence. Silences mute notifications only.
 */
import type { Alert } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import { coveringMutes, isInForce, matchersCover, type MuteMatchers, type MuteTarget, type Silence, type SilenceInput } from '../../../contract/silence.ts';

export type { MuteMatchers, MuteTarget, Silence, SilenceInput };
/** Whether the matchers cover an alert with these labels (the server's rule). */
export { matchersCover };

const HOUR = 60 * 60_000;

/** The durations offered when silencing an incident, besides "until a time". */
export const SILENCE_DURATIONS = [
  { id: '1h', label: '1 hour', ms: HOUR },
  { id: '4h', label: '4 hours', ms: 4 * HOUR },
] as const;

/** How long a new silence lasts: one of {@link SILENCE_DURATIONS}, or until a time typed in UTC. */
export type SilenceDuration = { kind: (typeof SILENCE_DURATIONS)[number]['id'] } | { kind: 'until'; value: string };

/**
 * The epoch ms of a `<input type="datetime-local">` value ("2026-11-23T14:30") read as UTC, as every
 * absolute time on the dashboard is; undefined when it is not such a value.
 */
export function parseUtcDateTime(value: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const ms = Date.UTC(year!, month! - 1, day!, hour!, minute!, Number.isNaN(second) ? 0 : second!);
  // Date.UTC rolls 2026-02-31 over to March 3; a value that does not round-trip was not a real time.
  const date = new Date(ms);
  const same = date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute;
  return same ? ms : undefined;
}

/** The `datetime-local` value ("2026-11-23T14:30", UTC) of an instant, to the minute. */
export function formatUtcDateTime(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 16);
}

/** When a silence chosen at `nowMs` ends, or why the choice is not usable. */
export function silenceEndsAt(duration: SilenceDuration, nowMs: number): { endsAt: number } | { problem: string } {
  if (duration.kind !== 'until') {
    const preset = SILENCE_DURATIONS.find((candidate) => candidate.id === duration.kind)!;
    return { endsAt: nowMs + preset.ms };
  }
  if (duration.value.trim() === '') return { problem: 'Pick the time (UTC) the silence ends.' };
  const endsAt = parseUtcDateTime(duration.value);
  if (endsAt === undefined) return { problem: 'That is not a date and time.' };
  if (endsAt <= nowMs) return { problem: 'That time has passed: pick one in the future (UTC).' };
  return { endsAt };
}

/** Whether the silence is in force at `nowMs` (the server's rule). */
export function isSilenceActive(silence: Pick<Silence, 'startsAt' | 'endsAt'>, nowMs: number): boolean {
  return isInForce(silence, nowMs);
}

/**
 * The silences not yet ended at `nowMs`: those in force first, ending soonest first, then those
 * that start later, soonest start first.
 */
export function currentSilences(silences: readonly Silence[], nowMs: number): Silence[] {
  return silences
    .filter((silence) => Date.parse(silence.endsAt) > nowMs)
    .sort((a, b) => {
      const aActive = isSilenceActive(a, nowMs);
      if (aActive !== isSilenceActive(b, nowMs)) return aActive ? -1 : 1;
      return aActive
        ? Date.parse(a.endsAt) - Date.parse(b.endsAt) || a.id.localeCompare(b.id)
        : Date.parse(a.startsAt) - Date.parse(b.startsAt) || a.id.localeCompare(b.id);
    });
}

const MATCHER_KEYS = ['service', 'environment', 'metric', 'severity'] as const;

/** The matchers in words: "service checkout or payments · environment prod". */
export function describeMatchers(matchers: MuteMatchers): string {
  return MATCHER_KEYS.filter((key) => matchers[key] !== undefined)
    .map((key) => `${key} ${matchers[key]!.join(' or ')}`)
    .join(' · ');
}

/**
 * The silences that mute notifications about an incident whose alerts have these labels: every
 * target must be covered by a silence in force (not necessarily the same one). Undefined when
 * something is left uncovered, or there is nothing to cover.
 */
export function mutingSilences(targets: readonly MuteTarget[], silences: readonly Silence[], nowMs: number): Silence[] | undefined {
  return coveringMutes(targets, silences.filter((silence) => isInForce(silence, nowMs)));
}

/**
 * The labels the mute rule is checked against for an incident: those of its alerts the dashboard
 * holds, plus the incident's own (without a metric) when some of its alerts are not in the feed.
 */
export function incidentMuteTargets(incident: Incident, alertsById: ReadonlyMap<string, Alert>): MuteTarget[] {
  const targets: MuteTarget[] = [];
  let missing = incident.alertIds.length === 0;
  for (const id of incident.alertIds) {
    const alert = alertsById.get(id);
    if (alert === undefined) missing = true;
    else targets.push({ service: alert.service, environment: alert.environment, severity: alert.severity, metric: alert.metric });
  }
  if (missing) targets.push({ service: incident.service, environment: incident.environment, severity: incident.severity });
  return targets;
}

/**
 * What a silence of this incident prefills: its service and environment first, then those of its
 * other alerts the dashboard holds (an incident grouped by culprit spans services, and a silence
 * mutes it only when it covers every one of its alerts).
 */
export function incidentSilenceScope(incident: Incident, alertsById: ReadonlyMap<string, Alert>): { services: string[]; environments: string[] } {
  const services = new Set([incident.service]);
  const environments = new Set([incident.environment]);
  for (const id of incident.alertIds) {
    const alert = alertsById.get(id);
    if (alert === undefined) continue;
    services.add(alert.service);
    environments.add(alert.environment);
  }
  return { services: [...services], environments: [...environments] };
}
