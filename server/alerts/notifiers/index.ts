/** Builds notifiers from parsed `notify:` config blocks. */
import type { NotifierConfig } from './config.ts';
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
  }
}

/** Notifiers for the whole `notify:` list, keyed by endpoint name. */
export function createNotifiers(configs: readonly NotifierConfig[]): Map<string, Notifier> {
  return new Map(configs.map((config) => [config.name, createNotifier(config)]));
}
