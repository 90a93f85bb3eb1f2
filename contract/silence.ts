/**
 * Silences and the mute rule, shared by the server's mute stage and the dashboard: what a silence
 * is, which matchers cover an alert, whether a silence or window is in force, and whether a set of
 * them mutes an incident (every one of its alerts covered, not necessarily by the same one).
 */
import type { Severity } from './alert.ts';

/** Which alerts a silence or maintenance window covers: every key given must match; any listed value matches. */
export interface MuteMatchers {
  service?: string[];
  environment?: string[];
  metric?: string[];
  severity?: Severity[];
}

/** A silence: matching incidents are recorded but do not notify between `startsAt` and `endsAt`. */
export interface Silence {
  id: string;
  matchers: MuteMatchers;
  /** ISO-8601 (wall clock). */
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  createdAt: string;
}

/** What `POST /api/v1/silences` takes. */
export interface SilenceInput {
  matchers: MuteMatchers;
  /** ISO-8601; the server uses "now" when absent. */
  startsAt?: string;
  /** ISO-8601, in the future. */
  endsAt: string;
  /** Why; required (shown to whoever wonders why nothing paged). */
  comment: string;
}

/** Labels of one alert as the rule sees them; `metric` may be unknown (then a metric matcher does not cover it). */
export interface MuteTarget {
  service: string;
  environment: string;
  severity: string;
  metric?: string;
}

/** True when the target satisfies every given matcher. */
export function matchersCover(matchers: MuteMatchers, target: MuteTarget): boolean {
  return (
    (matchers.service === undefined || matchers.service.includes(target.service)) &&
    (matchers.environment === undefined || matchers.environment.includes(target.environment)) &&
    (matchers.metric === undefined || (target.metric !== undefined && matchers.metric.includes(target.metric))) &&
    (matchers.severity === undefined || (matchers.severity as readonly string[]).includes(target.severity))
  );
}

/** True while `now` (epoch ms) lies in [startsAt, endsAt). */
export function isInForce(period: { startsAt: string; endsAt: string }, now: number): boolean {
  return Date.parse(period.startsAt) <= now && now < Date.parse(period.endsAt);
}

/**
 * The mutes (silences or windows, already filtered to those in force) that together cover every
 * target, the first covering one per target; `undefined` when a target is left uncovered or there
 * is nothing to cover.
 */
export function coveringMutes<T extends { matchers: MuteMatchers }>(targets: readonly MuteTarget[], mutes: readonly T[]): T[] | undefined {
  if (targets.length === 0 || mutes.length === 0) return undefined;
  const used = new Set<T>();
  for (const target of targets) {
    const match = mutes.find((mute) => matchersCover(mute.matchers, target));
    if (match === undefined) return undefined;
    used.add(match);
  }
  return [...used];
}
