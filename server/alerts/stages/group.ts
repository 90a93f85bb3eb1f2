/**
 * The group stage: which incident an alert belongs to. Alerts share an incident when their top
 * suspect is the same change (the culprit and the callers it drags down), else when the configured
 * `groupBy` labels are equal. The grouping rules are pure functions; `groupStage` applies them to
 * the router's memory and store, and the flap window (stages/hysteresis.ts) lets a flapping group
 * re-open its incident instead of opening another.
 */
import { createHash } from 'node:crypto';
import type { Alert, Severity } from '../../../contract/alert.ts';
import { SEVERITIES } from '../../../contract/alert.ts';
import type { Incident } from '../../../contract/incident.ts';
import type { IncidentMemory } from '../incident-memory.ts';
import type { IncidentsConfig } from './config.ts';
import type { EmissionStep } from './dedup.ts';
import { observeEventTime, type IncidentStep } from './notify.ts';
import type { Stage } from './stage.ts';

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

/** Sets the title: what broke, how many alerts, and the suspected change. */
function describe(incident: Incident, alerts: readonly Alert[]): Incident {
  const first = alerts.find((alert) => alert.service === incident.service) ?? alerts[0];
  const services = new Set(alerts.map((alert) => alert.service));
  const what = first ? `${first.service} ${first.metric}` : incident.service;
  const more = alerts.length > 1 ? ` (+${alerts.length - 1} alert${alerts.length > 2 ? 's' : ''} on ${services.size} service${services.size > 1 ? 's' : ''})` : '';
  const culprit = incident.groupLabels.change === undefined ? '' : `, suspect change ${incident.groupLabels.change}`;
  return { ...incident, title: `${what} anomalous${more}${culprit}` };
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
 * The group stage: finds the alert's incident (its current one, an open one of its group, one
 * re-openable in the flap window, or a new one) and reconciles it with the alert's emission. An
 * alert that resolves without ever having been grouped goes no further: nothing to tell anyone.
 */
export function groupStage(memory: IncidentMemory, config: IncidentsConfig): Stage<EmissionStep, GroupedStep> {
  /** The incident an alert belongs to, or `undefined` for a resolved alert that never was grouped. */
  const incidentFor = async ({ tx, alert, now }: EmissionStep): Promise<{ incident: Incident; isNew: boolean } | undefined> => {
    const knownId = memory.incidentIdOf(alert.id);
    const known = knownId === undefined ? undefined : (memory.tracked.get(knownId)?.incident ?? (await tx.incidents.get(knownId)));
    if (known !== undefined) return { incident: known, isNew: false };
    if (alert.status === 'resolved') return undefined;
    const group = groupOf(alert, config);
    const open = await tx.incidents.findOpenByGroupKey(group.key);
    if (open !== undefined) return { incident: open, isNew: false };
    const reopenable = memory.flap.reopenable(group.key, now);
    const flapping = reopenable === undefined ? undefined : memory.tracked.get(reopenable)?.incident;
    if (flapping !== undefined) return { incident: flapping, isNew: false };
    const fresh = openIncident(alert, group, new Date(now).toISOString());
    // After a crash the same input re-creates the same id: continue that incident, do not open another.
    const stored = await tx.incidents.get(fresh.id);
    return stored === undefined ? { incident: fresh, isNew: true } : { incident: stored, isNew: false };
  };
  return {
    name: 'group',
    async run(step) {
      const found = await incidentFor(step);
      if (found === undefined) return undefined;
      const { tx, alert, now } = step;
      const { incident: previous, isNew } = found;
      memory.remember(alert);
      const alerts = await memory.alertsOf(tx, previous.alertIds.includes(alert.id) ? previous.alertIds : [...previous.alertIds, alert.id]);
      const incident = reconcileIncident(previous, alerts, new Date(now).toISOString());
      if (incident.status === 'resolved' && previous.status !== 'resolved') memory.flap.resolved(incident.groupKey, incident.id, now);
      if (incident.status !== 'resolved') memory.flap.forget(incident.groupKey);
      const before = observeEventTime(await memory.notifyStateOf(tx, incident.id, now), alert.updatedAt);
      return { ...step, previous, isNew, incident, alerts, settled: memory.flap.settled(incident.groupKey, now), before, state: before };
    },
  };
}
