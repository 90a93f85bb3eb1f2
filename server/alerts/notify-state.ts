/**
 * What has been told about one incident, and when: the state every notification decision reads.
 * It is stored on the incident's row (`incidents.notify_state`) and written in the transaction that
 * holds the row's lock, so any instance can take the next decision (a page after `groupWait`, a
 * resolve after the flap window) and two instances never take the same one. Pure: no I/O here; the
 * shape itself is declared with the row it is stored on.
 */
import type { IncidentNotifyState } from '../store/repositories/incidents.ts';

/** What has been told about one incident, and when (its shape is the stored row's: see the incidents repository). */
export type NotifyState = IncidentNotifyState;

/** The state of an incident nothing has been sent about yet. */
export function freshNotifyState(now: number): NotifyState {
  return { openedAt: now, alertsAtLastSend: 0 };
}

/** The state with the event time of one more routed emission of the incident (ISO-8601 `updatedAt`). */
export function observeEventTime(state: NotifyState, eventTime: string): NotifyState {
  const at = Date.parse(eventTime);
  if (!Number.isFinite(at)) return state;
  return { ...state, openedEventAt: state.openedEventAt ?? at, lastEventAt: Math.max(state.lastEventAt ?? at, at) };
}

/** How long the incident has waited for its first page: the longer of wall time and event time since it was first seen. */
export function waitedMs(state: NotifyState, now: number): number {
  const eventTime = state.openedEventAt === undefined || state.lastEventAt === undefined ? 0 : state.lastEventAt - state.openedEventAt;
  return Math.max(now - state.openedAt, eventTime);
}

/**
 * The "already paged" rule: someone was paged about the incident and has not been told it resolved
 * (its last notification was a trigger or an acknowledge). Only such an incident sends acknowledge
 * and resolve, and the router keeps tracking it until it does.
 */
export function hasPaged(state: NotifyState): boolean {
  return state.lastAction === 'trigger' || state.lastAction === 'acknowledge';
}

/**
 * The flap window (hysteresis): an incident whose alerts all resolved stays "recently resolved" for
 * `flapWindowMs` of wall-clock time before its resolve goes out, and a re-fire of its group inside
 * the window re-opens it, so the pager sees one continuous incident instead of a resolve and a new
 * page. True once the window has passed (or never started).
 */
export function flapSettled(state: NotifyState, flapWindowMs: number, now: number): boolean {
  return state.resolvedSeenAt === undefined || now - state.resolvedSeenAt >= flapWindowMs;
}

/** The state after the incident's alerts all resolved (`resolved`) or one fired again: the flap window starts or ends. */
export function withResolution(state: NotifyState, resolved: boolean, now: number): NotifyState {
  if (resolved) return state.resolvedSeenAt === undefined ? { ...state, resolvedSeenAt: now } : state;
  if (state.resolvedSeenAt === undefined) return state;
  const { resolvedSeenAt: _ended, ...open } = state;
  return open;
}

/** True when a resolved incident needs nothing more: its flap window passed and no page is left to resolve. */
export function isDone(status: string, state: NotifyState, flapWindowMs: number, now: number): boolean {
  return status === 'resolved' && flapSettled(state, flapWindowMs, now) && !hasPaged(state);
}
