/** Builds notifiers from parsed `notify:` config blocks. */
import { AlertmanagerNotifier } from './alertmanager.ts';
import { announcesChanges, type ChangeSender } from './changes.ts';
import type { NotifierConfig } from './config.ts';
import { GrafanaNotifier } from './grafana.ts';
import { PagerDutyChangeSender } from './pagerduty-changes.ts';
import { PagerDutyNotifier } from './pagerduty.ts';
import { SlackNotifier } from './slack.ts';
import type { Notifier } from './types.ts';
import { WebhookNotifier } from './webhook.ts';

/** The notifier for one config block. */
export function createNotifier(config: NotifierConfig): Notifier {
  switch (config.type) {
    case 'pagerduty':
      return new PagerDutyNotifier(config);
    case 'slack':
      return new SlackNotifier(config);
    case 'webhook':
      return new WebhookNotifier(config);
    case 'alertmanager':
      return new AlertmanagerNotifier(config);
    case 'grafana':
      return new GrafanaNotifier(config);
  }
}

/** Notifiers for the whole `notify:` list, keyed by endpoint name. */
export function createNotifiers(configs: readonly NotifierConfig[]): Map<string, Notifier> {
  return new Map(configs.map((config) => [config.name, createNotifier(config)]));
}

/** A change sender per endpoint that announces changes (server/alerts/notifiers/changes.ts), keyed by endpoint name. */
export function createChangeSenders(configs: readonly NotifierConfig[]): Map<string, ChangeSender> {
  const senders = new Map<string, ChangeSender>();
  for (const config of configs) {
    if (!announcesChanges(config)) continue;
    if (config.type === 'pagerduty') senders.set(config.name, new PagerDutyChangeSender(config));
    else if (config.type === 'grafana') senders.set(config.name, new GrafanaNotifier(config));
  }
  return senders;
}
