/**
 * PagerDuty Events API v2: `trigger` opens (or updates) a PagerDuty incident, `acknowledge` and
 * `resolve` act on it, all keyed by a `dedup_key` derived from the changewatch incident id, so
 * retries and repeats never open a second page.
 */
import type { Severity } from '../../../contract/alert.ts';
import type { PagerDutyConfig } from './config.ts';
import { describeSuspect, headline, leadAlert, topSuspect, truncate } from './describe.ts';
import { post } from './http.ts';
import { Redactor, urlSecrets } from './redact.ts';
import type { DeliveryOutcome, Notification, Notifier } from './types.ts';

/** PagerDuty's limit on `payload.summary`. */
const MAX_SUMMARY_LENGTH = 1024;

/** PagerDuty's severities; changewatch never emits `error` but the type allows it. */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** An Events API v2 request body. */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  /** Only on `trigger`: PagerDuty ignores it on acknowledge and resolve. */
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: Array<{ href: string; text: string }>;
}

/** Maps changewatch severities onto PagerDuty's. */
const SEVERITY_MAP: Record<Severity, PagerDutySeverity> = { critical: 'critical', warning: 'warning', info: 'info' };

/** The `dedup_key` of a changewatch incident: stable for its whole life. */
export function pagerDutyDedupKey(incidentId: string): string {
  return `changewatch/${incidentId}`;
}

/** Builds the Events API v2 body for a notification. */
export function buildPagerDutyEvent(routingKey: string, notification: Notification): PagerDutyEvent {
  const { incident, alerts, action, dashboardUrl } = notification;
  const event: PagerDutyEvent = {
    routing_key: routingKey,
    event_action: action,
    dedup_key: pagerDutyDedupKey(incident.id),
  };
  if (action !== 'trigger') return event;

  const lead = leadAlert(alerts);
  const suspect = topSuspect(alerts);
  const metrics = [...new Set(alerts.map((alert) => alert.metric))];
  event.payload = {
    summary: truncate(`${headline(notification)}: ${lead?.explanation ?? incident.title}`, MAX_SUMMARY_LENGTH),
    // PagerDuty groups by source; the affected service is the closest thing to a "host" here.
    source: incident.service,
    severity: SEVERITY_MAP[incident.severity],
    timestamp: incident.startedAt,
    component: metrics.join(', ') || incident.service,
    group: incident.environment,
    class: 'anomaly',
    custom_details: {
      incident_id: incident.id,
      group_key: incident.groupKey,
      status: incident.status,
      explanation: lead?.explanation,
      top_suspect: suspect === undefined ? null : describeSuspect(suspect),
      suspects: alerts
        .flatMap((alert) => alert.suspects)
        .sort((a, b) => b.confidence - a.confidence)
        .slice(0, 5)
        .map((s) => ({
          change_id: s.changeId,
          confidence: s.confidence,
          type: s.change.type,
          service: s.change.service,
          author_type: s.change.author.type,
          author: s.change.author.agent ?? s.change.author.name,
          version: s.change.version,
          previous_version: s.change.previousVersion,
          evidence: s.evidence,
        })),
      alerts: alerts.map((alert) => ({
        id: alert.id,
        service: alert.service,
        metric: alert.metric,
        severity: alert.severity,
        observed: alert.observed,
        expected: alert.expected,
        score: alert.score,
        started_at: alert.startedAt,
      })),
      no_change_confidence: lead?.noChangeConfidence,
      dashboard: dashboardUrl,
    },
  };
  event.client = 'changewatch';
  event.client_url = dashboardUrl;
  event.links = [{ href: dashboardUrl, text: 'Incident in changewatch' }];
  return event;
}

/** Sends notifications to one PagerDuty integration. */
export class PagerDutyNotifier implements Notifier {
  readonly type = 'pagerduty';
  readonly name: string;
  private readonly redactor: Redactor;

  constructor(private readonly config: PagerDutyConfig) {
    this.name = config.name;
    this.redactor = new Redactor([config.routingKey, ...urlSecrets(config.url)]);
  }

  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    return post({
      url: this.config.url,
      body: JSON.stringify(buildPagerDutyEvent(this.config.routingKey, notification)),
      headers: {},
      timeoutMs: this.config.timeoutMs,
      redactor: this.redactor,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
