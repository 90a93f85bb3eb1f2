/**
 * Changes as outbound events: which endpoints announce the changes changewatch sees (PagerDuty
 * Change Events on a `pagerduty` endpoint with `changeEvents: true`, annotations on a `grafana`
 * endpoint unless `changes: false`), which change each one takes (its `match`), and the sender that
 * turns one change into one HTTP request. Like a notifier, a sender never sleeps or retries.
 */
import { createHash } from 'node:crypto';
import type { ChangeNotification } from '../../../contract/change-notification.ts';
import type { AuthorType, ChangeEvent } from '../../../contract/events.ts';
import { authorTypeLabel } from './describe.ts';
import type { NotifierConfig } from './config.ts';
import type { DeliveryOutcome } from './types.ts';

export type { ChangeNotification } from '../../../contract/change-notification.ts';

/** Sends change notifications to one configured endpoint. */
export interface ChangeSender {
  /** The endpoint name from `notify:`. */
  readonly name: string;
  readonly type: string;
  /** One attempt; never throws, never retries. */
  sendChange(notification: ChangeNotification, signal?: AbortSignal): Promise<DeliveryOutcome>;
}

/** True when the endpoint announces changes. */
export function announcesChanges(config: NotifierConfig): boolean {
  if (config.type === 'pagerduty') return config.changeEvents;
  if (config.type === 'grafana') return config.changes;
  return false;
}

/**
 * Whether the endpoint's `match` takes the change: `service`, `environment` and `authorType` (the
 * change's author) apply; `severity` is about anomalies and does not filter changes.
 */
export function matchesChange(config: NotifierConfig, change: ChangeEvent): boolean {
  const match = config.match;
  if (match === undefined) return true;
  if (match.service && !match.service.includes(change.service)) return false;
  if (match.environment && !match.environment.includes(change.environment)) return false;
  if (match.authorType && !match.authorType.includes(change.author.type)) return false;
  return true;
}

/** Names of the endpoints that announce this change, in config order. */
export function changeEndpointsFor(configs: readonly NotifierConfig[], change: ChangeEvent): string[] {
  return configs.filter((config) => announcesChanges(config) && matchesChange(config, change)).map((config) => config.name);
}

/** The change notification's id: the same for one change at one endpoint on every instance, forever. */
export function changeNotificationId(endpoint: string, changeId: string): string {
  return `chg_${createHash('sha256').update(`${endpoint}\u0000${changeId}`).digest('hex').slice(0, 32)}`;
}

/** "deploy chg-42 of checkout (v2.3.9 → v2.4.0) in prod by AI agent kiro", for summaries and annotation texts. */
export function describeChange(change: ChangeEvent): string {
  const versions = change.version === undefined ? '' : ` (${change.previousVersion === undefined ? '' : `${change.previousVersion} → `}${change.version})`;
  const who = change.author.agent ?? change.author.name;
  return `${change.type} ${change.id} of ${change.service}${versions} in ${change.environment} by ${authorTypeLabel(change.author.type)} ${who}`;
}

/** True for the author types whose changes carry AI provenance. */
export function isAiAuthored(type: AuthorType): boolean {
  return type === 'ai_agent' || type === 'ai_assisted';
}

/** The change's provenance and details as flat snake_case fields, for custom_details and the like. */
export function changeDetails(change: ChangeEvent): Record<string, unknown> {
  const { author } = change;
  return {
    change_id: change.id,
    type: change.type,
    service: change.service,
    environment: change.environment,
    version: change.version,
    previous_version: change.previousVersion,
    summary: change.summary,
    author_type: author.type,
    author: author.name,
    ai_authored: isAiAuthored(author.type),
    ai_agent: author.agent,
    ai_model: author.model,
    reviewed_by: author.reviewedBy,
    diff: change.diff,
    pr: change.links?.pr,
    commit: change.links?.commit,
  };
}
