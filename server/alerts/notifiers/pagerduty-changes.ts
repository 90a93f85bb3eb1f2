/**
 * PagerDuty Change Events API v2: each change changewatch sees (deploys, config changes, flags,
 * rollbacks), with its author and AI provenance in `custom_details`, shows in the service's "Recent
 * changes" next to the incidents it may cause. PagerDuty does not deduplicate change events, so the
 * outbox sends each change once per endpoint (server/store/repositories/change-outbox.ts).
 */
import type { ChangeNotification } from '../../../contract/change-notification.ts';
import { PAGERDUTY_CHANGE_EVENTS_PATH, type PagerDutyConfig } from './config.ts';
import { changeDetails, describeChange, type ChangeSender } from './changes.ts';
import { truncate } from './describe.ts';
import { post } from './http.ts';
import { Redactor, urlSecrets } from './redact.ts';
import type { DeliveryOutcome } from './types.ts';

/** PagerDuty's limit on `payload.summary`. */
const MAX_SUMMARY_LENGTH = 1024;

/** A Change Events API v2 request body. */
export interface PagerDutyChangeEvent {
  routing_key: string;
  payload: {
    summary: string;
    timestamp: string;
    source: string;
    custom_details: Record<string, unknown>;
  };
  links: Array<{ href: string; text: string }>;
}

/** Where an endpoint's Change Events go: `changeEventsUrl`, else `/v2/change/enqueue` on the origin of `url`. */
export function pagerDutyChangeEventsUrl(config: Pick<PagerDutyConfig, 'url' | 'changeEventsUrl'>): string {
  return config.changeEventsUrl ?? `${new URL(config.url).origin}${PAGERDUTY_CHANGE_EVENTS_PATH}`;
}

/** Builds the Change Events body for a change. */
export function buildPagerDutyChangeEvent(routingKey: string, notification: ChangeNotification): PagerDutyChangeEvent {
  const { change, dashboardUrl } = notification;
  const links = [{ href: dashboardUrl, text: 'changewatch' }];
  if (change.links?.pr !== undefined && /^https?:\/\//.test(change.links.pr)) links.unshift({ href: change.links.pr, text: 'Pull request' });
  return {
    routing_key: routingKey,
    payload: {
      summary: truncate(`${describeChange(change)}${change.summary === undefined ? '' : `: ${change.summary}`}`, MAX_SUMMARY_LENGTH),
      timestamp: new Date(change.timestamp).toISOString(),
      source: change.service,
      custom_details: changeDetails(change),
    },
    links,
  };
}

/** Sends change events to one PagerDuty integration. */
export class PagerDutyChangeSender implements ChangeSender {
  readonly type = 'pagerduty';
  readonly name: string;
  private readonly url: string;
  private readonly redactor: Redactor;

  constructor(private readonly config: PagerDutyConfig) {
    this.name = config.name;
    this.url = pagerDutyChangeEventsUrl(config);
    this.redactor = new Redactor([config.routingKey, ...urlSecrets(config.url), ...urlSecrets(this.url)]);
  }

  sendChange(notification: ChangeNotification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    return post({
      url: this.url,
      body: JSON.stringify(buildPagerDutyChangeEvent(this.config.routingKey, notification)),
      headers: {},
      timeoutMs: this.config.timeoutMs,
      redactor: this.redactor,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
