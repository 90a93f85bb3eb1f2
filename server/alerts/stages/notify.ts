/**
 * The notify stage: decides which notification an incident is due (trigger after `groupWait`, again
 * after `groupInterval` when alerts joined or after `repeatInterval` while nobody acknowledged,
 * acknowledge, resolve once the flap window passed) and writes it to the outbox, or records it as
 * suppressed when the incident is muted. The delivery worker (the retry stage) sends what is written.
 *
 * Timing is wall clock, detection is event time: an alert's onset comes from the data, but "wait 30 s
 * before paging" is about the people being paged, so the timers here run on the server's clock.
 * One exception keeps a backlog from swallowing pages: `groupWait` is also over once that much
 * *event* time has passed since the router first saw the incident. Live, both clocks advance
 * together and nothing changes; while the service catches up (after an outage of the broker, a
 * restart that replays from its checkpoint, any consumer lag) the data's clock runs fast, and an
 * incident that fired and resolved inside the backlog still pages (a late trigger, then its resolve)
 * exactly when it would have paged live, where the wall clock alone would have seen it open and
 * resolve between two ticks and told no one.
 */
import type { Alert } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { OutboxEntry } from '../../store/repositories/outbox.ts';
import type { Repositories } from '../../store/store.ts';
import { enqueueNotifications } from '../delivery/enqueue.ts';
import type { NotifierConfig } from '../notifiers/config.ts';
import { selectEndpoints } from '../notifiers/match.ts';
import type { NotificationAction } from '../notifiers/types.ts';
import type { IncidentsConfig } from './config.ts';
import type { Stage } from './stage.ts';
import { freshNotifyState, hasPaged, waitedMs, type NotifyState } from '../notify-state.ts';

export { freshNotifyState, hasPaged, observeEventTime, waitedMs, type NotifyState } from '../notify-state.ts';

/** Rebuilds the state from the last outbox row written for the incident (after a restart), or a fresh one when there is none. */
export function notifyStateFromLatest(last: OutboxEntry | undefined, now: number): NotifyState {
  if (last === undefined) return freshNotifyState(now);
  return { openedAt: now, lastAction: last.action, lastSentAt: last.createdAt, alertsAtLastSend: last.notification.incident.alertIds.length };
}

/**
 * The notification an incident is due at `now`, if any. `settled` says the flap window of a
 * resolved incident has passed. Acknowledge and resolve only follow a trigger: an incident that
 * never paged (still in `groupWait`, or muted) does not send them. A resolved incident that never
 * paged although it lived through `groupWait` (in event time: it fired and resolved inside a
 * backlog) is due its late trigger, and its resolve after that — unless a person resolved it
 * (`resolvedByPerson`): they already know.
 */
export function dueNotification(
  incident: Incident,
  state: NotifyState,
  settled: boolean,
  timing: IncidentsConfig,
  now: number,
  resolvedByPerson = false,
): NotificationAction | undefined {
  switch (incident.status) {
    case 'firing':
      if (state.lastAction !== 'trigger') return waitedMs(state, now) >= timing.groupWaitMs ? 'trigger' : undefined;
      if (incident.alertIds.length > state.alertsAtLastSend && now - state.lastSentAt! >= timing.groupIntervalMs) return 'trigger';
      return now - state.lastSentAt! >= timing.repeatIntervalMs ? 'trigger' : undefined;
    case 'acknowledged':
      return state.lastAction === 'trigger' ? 'acknowledge' : undefined;
    case 'resolved':
      if (hasPaged(state)) return settled ? 'resolve' : undefined;
      return !resolvedByPerson && waitedMs(state, now) >= timing.groupWaitMs ? 'trigger' : undefined;
  }
}

/** What the notify stage needs to write notifications. */
export interface NotifyTarget {
  notify: readonly NotifierConfig[];
  /** Base URL of the dashboard, for links in notifications. */
  publicUrl: string;
}

/** The link to an incident on the dashboard. */
export function incidentUrl(publicUrl: string, incidentId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/?incident=${encodeURIComponent(incidentId)}`;
}

/**
 * Writes `action` for the incident to every matching endpoint's outbox, or — when `muteReason` is
 * set — an audit entry saying it was suppressed. Returns the new state. Call inside the transaction
 * that wrote the incident.
 */
export async function writeNotification(
  tx: Repositories,
  target: NotifyTarget,
  action: NotificationAction,
  incident: Incident,
  alerts: readonly Alert[],
  state: NotifyState,
  muteReason: string | undefined,
  now: number,
): Promise<NotifyState> {
  if (muteReason !== undefined) {
    if (state.suppressedAction !== action) {
      await tx.audit.append({ actor: 'notify', action: 'notification.suppressed', target: `incident:${incident.id}`, reason: `${action} muted by ${muteReason}`, evidence: { action, incident } });
    }
    return { ...state, suppressedAction: action };
  }
  const ordered = [...alerts].sort(byRelevance);
  const endpoints = selectEndpoints(target.notify, incident, ordered, { action, repeat: action === 'trigger' && state.lastAction === 'trigger' });
  await enqueueNotifications(tx.outbox, endpoints, { action, incident, alerts: ordered, dashboardUrl: incidentUrl(target.publicUrl, incident.id) }, now);
  const { suppressedAction: _told, ...kept } = state;
  return { ...kept, lastAction: action, lastSentAt: now, alertsAtLastSend: incident.alertIds.length };
}

/** An incident on its way through the mute and notify stages, inside the routing transaction. */
export interface IncidentStep {
  tx: Repositories;
  /** Wall clock, epoch ms. */
  now: number;
  incident: Incident;
  /** Its alerts' newest emissions. */
  alerts: readonly Alert[];
  /** Whether a resolved incident's flap window has passed (always true for a person's resolve). */
  settled: boolean;
  /** What had been told about it before this step. */
  before: NotifyState;
  /** What has been told once this step is done (`before` until the notify stage writes something). */
  state: NotifyState;
  /** Set by the mute stage: what mutes the incident now. */
  muted?: string;
  /** A person resolved it just now (no late trigger: see `dueNotification`). */
  resolvedByPerson?: boolean;
}

/** The notify stage: writes the notification the incident is due, if any (to the outbox, or as suppressed when muted). */
export function notifyStage<T extends IncidentStep>(target: NotifyTarget & { incidents: IncidentsConfig }): Stage<T> {
  return {
    name: 'notify',
    async run(step) {
      const action = dueNotification(step.incident, step.before, step.settled, target.incidents, step.now, step.resolvedByPerson);
      if (action === undefined) return step;
      return { ...step, state: await writeNotification(step.tx, target, action, step.incident, step.alerts, step.before, step.muted, step.now) };
    },
  };
}

/** Open before resolved, then most severe, then highest score. */
function byRelevance(a: Alert, b: Alert): number {
  const rank = (alert: Alert) => (alert.status === 'resolved' ? 10 : 0) + ['critical', 'warning', 'info'].indexOf(alert.severity);
  return rank(a) - rank(b) || b.score - a.score;
}
