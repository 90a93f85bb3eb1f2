/**
 * The mute rule, pure and shared by the server's mute stage and the dashboard: which matchers cover
 * an alert, whether a silence or window is in force, and whether a set of them mutes an incident
 * (every one of its alerts covered, not necessarily by the same one). No I/O, no Node imports.
 */
import type { MuteMatchers } from './config.ts';

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
