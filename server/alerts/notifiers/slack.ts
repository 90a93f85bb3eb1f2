/** Slack incoming webhook: a Block Kit message with the explanation, the top suspect and dashboard links. */
import type { SlackConfig } from './config.ts';
import { authorTypeLabel, describeSuspect, formatConfidence, headline, leadAlert, topSuspect, truncate } from './describe.ts';
import { post } from './http.ts';
import { Redactor, urlSecrets } from './redact.ts';
import type { DeliveryOutcome, Notification, Notifier } from './types.ts';

/** A Slack incoming-webhook body (only the parts changewatch uses). */
export interface SlackMessage {
  /** Fallback shown in notifications and by clients without blocks. */
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/** Slack's limits on header and section text. */
const MAX_HEADER_LENGTH = 150;
const MAX_SECTION_LENGTH = 3000;

/** Escapes the three characters Slack mrkdwn treats as control characters. */
export function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Emoji per action, so a resolve is visibly different from a page in a busy channel. */
const ACTION_EMOJI = { trigger: ':rotating_light:', acknowledge: ':eyes:', resolve: ':white_check_mark:' } as const;

/** Builds the Slack message for a notification. */
export function buildSlackMessage(notification: Notification): SlackMessage {
  const { incident, alerts, action, dashboardUrl } = notification;
  const lead = leadAlert(alerts);
  const suspect = topSuspect(alerts);
  const title = headline(notification);
  const fields = [
    `*Severity*\n${incident.severity}`,
    `*Service*\n${escapeSlack(incident.service)} (${escapeSlack(incident.environment)})`,
    `*Top suspect*\n${suspect === undefined ? 'no change implicated' : escapeSlack(describeSuspect(suspect))}`,
    `*Author type*\n${suspect === undefined ? 'n/a' : authorTypeLabel(suspect.change.author.type)}`,
    `*Confidence*\n${suspect === undefined ? 'n/a' : formatConfidence(suspect.confidence)}`,
    `*Status*\n${incident.status}${incident.acknowledgedBy === undefined ? '' : ` by ${escapeSlack(incident.acknowledgedBy)}`}`,
  ];
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, MAX_HEADER_LENGTH), emoji: true } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`${ACTION_EMOJI[action]} ${escapeSlack(lead?.explanation ?? incident.title)}`, MAX_SECTION_LENGTH) },
    },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (suspect !== undefined && suspect.evidence.length > 0) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Evidence*\n${suspect.evidence.map((line) => `• ${escapeSlack(line)}`).join('\n')}`, MAX_SECTION_LENGTH) },
    });
  }
  blocks.push(
    { type: 'context', elements: [{ type: 'mrkdwn', text: `incident ${escapeSlack(incident.id)} · ${alerts.length} alert(s) · started ${incident.startedAt}` }] },
    {
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Open incident' }, url: dashboardUrl, ...(action === 'trigger' ? { style: 'primary' } : {}) },
        { type: 'button', text: { type: 'plain_text', text: 'Dashboard' }, url: new URL('/', dashboardUrl).href },
      ],
    },
  );
  const fallback = `${title}: ${lead?.explanation ?? incident.title}`;
  return { text: fallback, blocks };
}

/** Posts notifications to one Slack incoming webhook. */
export class SlackNotifier implements Notifier {
  readonly type = 'slack';
  readonly name: string;
  private readonly redactor: Redactor;

  constructor(private readonly config: SlackConfig) {
    this.name = config.name;
    this.redactor = new Redactor(urlSecrets(config.url));
  }

  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryOutcome> {
    return post({
      url: this.config.url,
      body: JSON.stringify(buildSlackMessage(notification)),
      headers: {},
      timeoutMs: this.config.timeoutMs,
      redactor: this.redactor,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}
