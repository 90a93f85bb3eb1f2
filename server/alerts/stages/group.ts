/**
 * The group stage: which incident an alert belongs to. Alerts share an incident when their top
 * suspect is the same change (the culprit and the callers it drags down), else when the configured
 * `groupBy` labels are equal. The grouping rules are pure functions; `groupStage` applies them to
 * the store, and the flap window (`flapSettled` in ../notify-state.ts) lets a flapping group re-open
 * its incident instead of opening another.
 */
import { createHash } from 'node:crypto';
import type { Alert, Severity } from '../../../contract/alert.ts';
import { SEVERITIES } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { IncidentMemory } from '../incident-memory.ts';
import type { IncidentsConfig } from './config.ts';
import type { EmissionStep } from './dedup.ts';
import type { StoredIncident } from '../../store/repositories/incidents.ts';
import { flapSettled, freshNotifyState, observeEventTime, withResolution } from '../notify-state.ts';
import type { IncidentStep } from './notify.ts';
import type { Stage } from './stage.ts';
import { incidentTitle } from './title.ts';

/** The group an alert falls into. */
export interface AlertGroup {
  key: string;
  labels: Record<string, string>;
  /** The service most likely at the root: the culprit change's service, else the alert's own. */
  service: string;
}

/** The group of one alert under the configured grouping. */
export function groupOf(alert: Alert, config: Pick<IncidentsConfig, 'groupBy' | 'groupByCulprit' | 'culpritMinConfidence'>): AlertGroup {
  const top = alert.suspects[0];
  if (config.groupByCulprit && top !== undefined && top.confidence >= config.culpritMinConfidence) {
    const labels = { change: top.changeId, service: top.change.service, environment: alert.environment };
    return { key: `change=${top.changeId},environment=${alert.environment}`, labels, service: top.change.service };
  }
  const labels = Object.fromEntries(config.groupBy.map((label) => [label, String(alert[label])]));
  return { key: Object.entries(labels).map(([name, value]) => `${name}=${value}`).join(','), labels, service: alert.service };
}

/**
 * A deterministic incident id from the alert that opened it: re-processing the same input after a
 * crash yields the same id, hence the same PagerDuty `dedup_key`.
 */
export function incidentIdFor(firstAlertId: string): string {
  return `inc_${createHash('sha256').update(firstAlertId).digest('hex').slice(0, 20)}`;
}

/** A new firing incident opened by `alert`. */
export function openIncident(alert: Alert, group: AlertGroup, now: string): Incident {
  return describe({
    id: incidentIdFor(alert.id),
    groupKey: group.key,
    groupLabels: group.labels,
    status: 'firing',
    severity: alert.severity,
    title: '',
    service: group.service,
    environment: alert.environment,
    alertIds: [alert.id],
    startedAt: alert.startedAt,
    updatedAt: now,
  }, [alert]);
}

/**
 * The incident after its child alerts changed: severity is the highest child's, title is
 * recomputed, the status follows the children (all resolved → resolved; a firing child re-opens a
 * resolved incident) and a human acknowledgement is kept while anything still fires.
 */
export function reconcileIncident(incident: Incident, alerts: readonly Alert[], now: string): Incident {
  const next: Incident = { ...incident, alertIds: [...incident.alertIds], updatedAt: now };
  for (const alert of alerts) if (!next.alertIds.includes(alert.id)) next.alertIds.push(alert.id);
  const open = alerts.filter((alert) => alert.status !== 'resolved');
  if (open.length === 0) {
    next.status = 'resolved';
    next.resolvedAt = latest(alerts.map((alert) => alert.resolvedAt ?? alert.updatedAt));
  } else {
    next.status = next.acknowledgedBy === undefined ? 'firing' : 'acknowledged';
    delete next.resolvedAt;
  }
  next.severity = highestSeverity((open.length ? open : alerts).map((alert) => alert.severity));
  next.startedAt = earliest(alerts.map((alert) => alert.startedAt));
  return describe(next, alerts);
}

/** Sets the title (./title.ts): what broke and by how much, how many alerts, and the change that likely did it. */
function describe(incident: Incident, alerts: readonly Alert[]): Incident {
  const lead = alerts.find((alert) => alert.service === incident.service) ?? alerts[0];
  return { ...incident, title: incidentTitle(lead, incident.service, alerts) };
}

function highestSeverity(severities: readonly Severity[]): Severity {
  // SEVERITIES is ordered most urgent first.
  return SEVERITIES.find((severity) => severities.includes(severity)) ?? 'info';
}

function earliest(times: readonly string[]): string {
  return times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}

function latest(times: readonly string[]): string {
  return times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

/** An alert emission once grouped: its incident as it was and as it is now. */
export interface GroupedStep extends EmissionStep, IncidentStep {
  /** The incident before this emission (for a new one, as just opened). */
  previous: Incident;
  isNew: boolean;
}

/**
 * The group stage: finds the alert's incident (the one holding it, an open one of its group, one
 * re-openable in the flap window, or a new one), its row locked for the rest of the transaction, and
 * reconciles it with the alert's emission. The incident and what has been told about it are read
 * from the store, not from this process's memory: another instance may have changed either since.
 * An alert that resolves without ever having been grouped goes no further (nothing to tell anyone),
 * nor does an alert a person detached by resolving its incident while it fired.
 */
export function groupStage(memory: IncidentMemory, config: IncidentsConfig): Stage<EmissionStep, GroupedStep> {
  /** The open (or re-openable) incident of the alert's group, or a new one. */
  const incidentOfGroup = async ({ tx, alert, now }: EmissionStep): Promise<{ stored: StoredIncident; isNew: boolean }> => {
    const group = groupOf(alert, config);
    const open = (await tx.incidents.lockOpenByGroupKey(group.key)) ?? (await tx.incidents.lockReopenable(group.key, now - memory.flapWindowMs + 1));
    if (open !== undefined) return { stored: open, isNew: false };
    const fresh = openIncident(alert, group, new Date(now).toISOString());
    // After a crash the same input re-creates the same id: continue that incident, do not open another.
    const stored = await tx.incidents.lock(fresh.id);
    return stored === undefined ? { stored: { incident: fresh, notify: freshNotifyState(now) }, isNew: true } : { stored, isNew: false };
  };
  /** The incident the alert belongs to; `undefined` when the emission stops here. */
  const incidentFor = async (step: EmissionStep): Promise<{ stored: StoredIncident; isNew: boolean } | undefined> => {
    const { tx, alert, now } = step;
    const holding = await tx.incidents.lockByAlert(alert.id);
    if (holding !== undefined) {
      const notify = await memory.notifyStateOf(tx, holding, now);
      if (notify.detached?.includes(alert.id)) {
        // Once it resolves it may open a new incident the next time it fires.
        if (alert.status === 'resolved') await tx.incidents.upsert(holding.incident, { ...notify, detached: notify.detached.filter((id) => id !== alert.id) });
        return undefined;
      }
      if (!memory.isDone(holding.incident, notify, now)) return { stored: { incident: holding.incident, notify }, isNew: false };
    }
    return alert.status === 'resolved' ? undefined : incidentOfGroup(step);
  };
  return {
    name: 'group',
    async run(step) {
      const found = await incidentFor(step);
      if (found === undefined) return undefined;
      const { tx, alert, now } = step;
      const { stored, isNew } = found;
      const previous = stored.incident;
      const alerts = await memory.alertsOf(tx, previous.alertIds.includes(alert.id) ? previous.alertIds : [...previous.alertIds, alert.id], alert);
      const incident = reconcileIncident(previous, alerts, new Date(now).toISOString());
      const told = stored.notify ?? (await memory.notifyStateOf(tx, stored, now));
      const before = observeEventTime(withResolution(told, incident.status === 'resolved', now), alert.updatedAt);
      return { ...step, previous, isNew, incident, alerts, settled: flapSettled(before, memory.flapWindowMs, now), before, state: before };
    },
  };
}
