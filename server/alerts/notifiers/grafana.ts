/**
 * Grafana annotations (`POST <url>/api/annotations`, `Authorization: Bearer <service account
 * token>`), so the moments changewatch knows about sit on the graphs people already watch:
 *
 *   a change                → a point annotation at the change's time, tagged changewatch, change,
 *                             its type, service, environment and author type
 *   an incident's trigger   → a point annotation at its onset, tagged changewatch, incident, …
 *   its resolve             → a region annotation from the onset to the resolution, tagged … resolved
 *
 * The onset point stays when the region is added: updating it would need the id Grafana answered
 * with, kept per incident, and a second request. Acknowledgements and repeated triggers are not
 * annotated (`takesNotice` in match.ts). Grafana has no idempotency key: a retry after an answer was
 * lost can, rarely, add the same annotation twice.
 */
import type { ChangeNotification } from '../../../contract/change-notification.ts';
import type { ChangeSender } from './changes.ts';
import { describeChange } from './changes.ts';
import type { GrafanaConfig } from './config.ts';
import { describeSuspect, formatConfidence, headline, leadAlert, topSuspect } from './describe.ts';
import { post } from './http.ts';
import { Redactor, urlSecrets } from './redact.ts';
import type { DeliveryOutcome, Notification, Notifier } from './types.ts';

/** A Grafana annotation request body. */
export interface GrafanaAnnotation {
  /** Epoch ms. */
  time: number;
  /** Epoch ms; present on a region. */
  timeEnd?: number;
  tags: string[];
  text: string;
  dashboardUID?: string;
}

/** Where annotations are posted. */
export function grafanaAnnotationsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/annotations`;
}

/** Tags in Grafana's usual `key:value` style, without duplicates. */
function tagsOf(config: Pick<GrafanaConfig, 'tags'>, tags: Array<string | undefined>): string[] {
  return [...new Set(['changewatch', ...tags.filter((tag): tag is string => tag !== undefined && tag !== ''), ...config.tags])];
}

/** Escapes what Grafana would render as HTML in an annotation's text. */
function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The annotation for an incident notification (trigger: the onset; resolve: the region). */
export function buildIncidentAnnotation(config: Pick<GrafanaConfig, 'tags' | 'dashboardUID'>, notification: Notification): GrafanaAnnotation {
  const { incident, alerts, action, dashboardUrl } = notification;
  const lead = leadAlert(alerts);
  const suspect = topSuspect(alerts);
  const start = Date.parse(incident.startedAt);
  const lines = [escapeHtml(headline(notification))];
  if (lead !== undefined) lines.push(escapeHtml(lead.explanation));
  if (suspect !== undefined) lines.push(escapeHtml(`Most likely ${describeSuspect(suspect)}, ${formatConfidence(suspect.confidence)}.`));
  lines.push(`<a href="${escapeHtml(dashboardUrl)}">Incident in changewatch</a>`);
  const annotation: GrafanaAnnotation = {
    time: start,
    tags: tagsOf(config, [
      'incident',
      action === 'resolve' ? 'resolved' : undefined,
      `severity:${incident.severity}`,
      `service:${incident.service}`,
      `environment:${incident.environment}`,
      ...[...new Set(alerts.map((alert) => `metric:${alert.metric}`))],
      suspect === undefined ? undefined : `change:${suspect.changeId}`,
      suspect === undefined ? undefined : `author_type:${suspect.change.author.type}`,
    ]),
    text: lines.join('\n'),
  };
  if (action === 'resolve') {
    const end = Date.parse(incident.resolvedAt ?? incident.updatedAt);
    annotation.timeEnd = Number.isFinite(end) && end > start ? end : start;
  }
  if (config.dashboardUID !== undefined) annotation.dashboardUID = config.dashboardUID;
  return annotation;
}

/** The annotation for a change: a point at the change's time. */
export function buildChangeAnnotation(config: Pick<GrafanaConfig, 'tags' | 'dashboardUID'>, notification: ChangeNotification): GrafanaAnnotation {
  const { change } = notification;
  const lines = [escapeHtml(describeChange(change))];
  if (change.summary !== undefined) lines.push(escapeHtml(change.summary));
  if (change.author.model !== undefined) lines.push(escapeHtml(`model ${change.author.model}`));
  if (change.author.reviewedBy !== undefined && change.author.reviewedBy.length > 0) lines.push(escapeHtml(`reviewed by ${change.author.reviewedBy.join(', ')}`));
  if (change.links?.pr !== undefined && /^https?:\/\//.test(change.links.pr)) lines.push(`<a href="${escapeHtml(change.links.pr)}">Pull request</a>`);
  const annotation: GrafanaAnnotation = {
    time: change.timestamp,
    tags: tagsOf(config, [
      'change',
      `change_type:${change.type}`,
      `service:${change.service}`,
      `environment:${change.environment}`,
      `author_type:${change.author.type}`,
      change.author.agent === undefined ? undefined : `agent:${change.author.agent}`,
      `change:${change.id}`,
    ]),
    text: lines.join('\n'),
  };
  if (config.dashboardUID !== undefined) annotation.dashboardUID = config.dashboardUID;
  return annotation;
}

/** Posts annotations to one Grafana: incidents as a notifier, changes as a change sender. */
export class GrafanaNotifier implements Notifier, ChangeSender {
  readonly type = 'grafana';
  readonly name: string;
  private readonly url: string;
  private readonly redactor: Redactor;

  constructor(private readonly config: GrafanaConfig) {
    this.name = config.name;
    this.url = grafanaAnnotationsUrl(config.url);
    this.redactor = new Redactor([config.token, ...urlSecrets(config.url)]);
  }

  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    return this.post(buildIncidentAnnotation(this.config, notification), signal);
  }

  sendChange(notification: ChangeNotification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    return this.post(buildChangeAnnotation(this.config, notification), signal);
  }

  private post(annotation: GrafanaAnnotation, signal: AbortSignal | undefined): Promise<DeliveryOutcome> {
    return post({
      url: this.url,
      body: JSON.stringify(annotation),
      headers: { authorization: `Bearer ${this.config.token}`, accept: 'application/json' },
      timeoutMs: this.config.timeoutMs,
      redactor: this.redactor,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
