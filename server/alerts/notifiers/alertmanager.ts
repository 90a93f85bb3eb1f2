/**
 * Alertmanager-compatible webhook: posts the body Alertmanager's `webhook_config` sends (message
 * version "4"), so anything that already receives Alertmanager webhooks (Karma, alertmanager-bot,
 * incident tools, custom receivers) takes changewatch incidents as they are.
 *
 *   incident            → one group: `groupKey` its group key, `groupLabels` its group labels,
 *                          `receiver` the endpoint's name
 *   its child alerts    → `alerts`: labels alertname (the metric), service, environment, severity,
 *                          change_id (the top suspect); annotations summary (the one-sentence
 *                          explanation), description, suspect_change, suspect_author, …
 *   trigger             → status "firing" (resolved children are listed as resolved, as
 *                          Alertmanager does with send_resolved)
 *   resolve             → status "resolved", every alert resolved with its `endsAt`
 *   acknowledge         → nothing: Alertmanager has no acknowledgement (the router never writes it
 *                          for this endpoint, see `takesNotice` in match.ts)
 */
import type { Alert } from '../../../contract/alert.ts';
import type { Suspect } from '../../../contract/events.ts';
import type { AlertmanagerConfig } from './config.ts';
import { authorTypeLabel, describeSuspect, formatConfidence } from './describe.ts';
import { post } from './http.ts';
import { Redactor, urlSecrets } from './redact.ts';
import type { DeliveryOutcome, Notification, Notifier } from './types.ts';

/** Go's zero `time.Time`, which Alertmanager sends as `endsAt` of a firing alert. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** One alert of the message (Alertmanager's `template.Alert`). */
export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** The webhook body (Alertmanager's `webhook.Message`: `template.Data` plus version, groupKey, truncatedAlerts). */
export interface AlertmanagerMessage {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertmanagerAlert[];
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
/** Prometheus' `model.SeparatorByte`: never part of valid UTF-8. */
const SEPARATOR = 0xff;

/**
 * The fingerprint of a label set as Prometheus and Alertmanager compute it (`model.LabelSet.Fingerprint`):
 * FNV-1a 64 over the UTF-8 bytes of each name and value, sorted by name, each followed by 0xff;
 * 16 lowercase hex digits.
 */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = FNV_OFFSET;
  const add = (byte: number) => {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK_64;
  };
  const names = Object.keys(labels).sort();
  for (const name of names) {
    for (const byte of Buffer.from(name, 'utf8')) add(byte);
    add(SEPARATOR);
    for (const byte of Buffer.from(labels[name]!, 'utf8')) add(byte);
    add(SEPARATOR);
  }
  return hash.toString(16).padStart(16, '0');
}

/** The labels of one alert: what identifies it, like a Prometheus alerting rule's. */
export function alertLabels(alert: Alert): Record<string, string> {
  const labels: Record<string, string> = {
    alertname: alert.metric,
    service: alert.service,
    environment: alert.environment,
    severity: alert.severity,
  };
  const suspect = alert.suspects[0];
  if (suspect !== undefined) labels.change_id = suspect.changeId;
  return labels;
}

/** The annotations of one alert: what explains it. */
export function alertAnnotations(alert: Alert): Record<string, string> {
  const suspect: Suspect | undefined = alert.suspects[0];
  const annotations: Record<string, string> = {
    summary: alert.explanation,
    description: describeAlert(alert, suspect),
  };
  if (suspect !== undefined) {
    annotations.suspect_change = describeSuspect(suspect);
    annotations.suspect_author = suspect.change.author.agent ?? suspect.change.author.name;
    annotations.suspect_author_type = suspect.change.author.type;
    annotations.suspect_confidence = suspect.confidence.toFixed(2);
    if (suspect.change.author.model !== undefined) annotations.suspect_model = suspect.change.author.model;
  }
  return annotations;
}

/** A few lines for `description`: the values, and the top suspect's evidence. */
function describeAlert(alert: Alert, suspect: Suspect | undefined): string {
  const lines = [`${alert.service} ${alert.metric} observed ${alert.observed}, expected ${alert.expected} (normal ${alert.lower}–${alert.upper}), score ${alert.score.toFixed(2)}.`];
  if (suspect === undefined) lines.push('No tracked change is a plausible cause.');
  else {
    lines.push(`Most likely ${describeSuspect(suspect)} (${authorTypeLabel(suspect.change.author.type)}), ${formatConfidence(suspect.confidence)}.`);
    for (const evidence of suspect.evidence) lines.push(`- ${evidence}`);
  }
  return lines.join('\n');
}

/** The key/value pairs every map has in common (same name, same value), as Alertmanager's commonLabels. */
function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  if (first === undefined) return {};
  return Object.fromEntries(Object.entries(first).filter(([name, value]) => rest.every((map) => map[name] === value)));
}

/** The dashboard's base URL from an incident link (`<publicUrl>/?incident=…`). */
function dashboardBase(dashboardUrl: string): string {
  try {
    const url = new URL(dashboardUrl);
    return `${url.origin}${url.pathname.replace(/\/$/, '')}`;
  } catch {
    return dashboardUrl;
  }
}

/** Builds the Alertmanager message for a notification. */
export function buildAlertmanagerMessage(
  config: Pick<AlertmanagerConfig, 'name' | 'externalURL' | 'maxAlerts'>,
  notification: Notification,
): AlertmanagerMessage {
  const { incident, action, dashboardUrl } = notification;
  const resolvedAt = incident.resolvedAt ?? incident.updatedAt;
  const all: AlertmanagerAlert[] = notification.alerts.map((alert) => {
    const resolved = action === 'resolve' || alert.status === 'resolved';
    const labels = alertLabels(alert);
    return {
      status: resolved ? 'resolved' : 'firing',
      labels,
      annotations: alertAnnotations(alert),
      startsAt: alert.startedAt,
      endsAt: resolved ? (alert.resolvedAt ?? resolvedAt) : ZERO_TIME,
      generatorURL: dashboardUrl,
      fingerprint: labelsFingerprint(labels),
    };
  });
  const alerts = config.maxAlerts > 0 ? all.slice(0, config.maxAlerts) : all;
  return {
    version: '4',
    groupKey: incident.groupKey,
    truncatedAlerts: all.length - alerts.length,
    // Like Alertmanager's: resolved only when every alert of the group is.
    status: all.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    receiver: config.name,
    groupLabels: { ...incident.groupLabels },
    commonLabels: common(all.map((alert) => alert.labels)),
    commonAnnotations: common(all.map((alert) => alert.annotations)),
    externalURL: config.externalURL ?? dashboardBase(dashboardUrl),
    alerts,
  };
}

/** The `Authorization` header the config asks for, if any. */
export function authorizationHeader(config: Pick<AlertmanagerConfig, 'basicAuth' | 'bearerToken'>): string | undefined {
  if (config.basicAuth !== undefined) return `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`, 'utf8').toString('base64')}`;
  if (config.bearerToken !== undefined) return `Bearer ${config.bearerToken}`;
  return undefined;
}

/** Posts Alertmanager webhook messages to one receiver. */
export class AlertmanagerNotifier implements Notifier {
  readonly type = 'alertmanager';
  readonly name: string;
  private readonly redactor: Redactor;
  private readonly authorization: string | undefined;

  constructor(private readonly config: AlertmanagerConfig) {
    this.name = config.name;
    this.authorization = authorizationHeader(config);
    this.redactor = new Redactor([config.basicAuth?.password, config.bearerToken, this.authorization?.split(' ')[1], ...urlSecrets(config.url)]);
  }

  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    return post({
      url: this.config.url,
      body: JSON.stringify(buildAlertmanagerMessage(this.config, notification)),
      headers: this.authorization === undefined ? {} : { authorization: this.authorization },
      timeoutMs: this.config.timeoutMs,
      redactor: this.redactor,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
