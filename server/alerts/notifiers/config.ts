/**
 * Zod schemas for the `notify:` config blocks, matching the documented YAML keys. The config loader
 * (server/config.ts) composes `notifyConfigSchema` after `${VAR}` substitution. Validation messages
 * never echo the values, so a malformed secret does not end up in a startup error.
 */
import { z } from 'zod';
import { AUTHOR_TYPES } from '../../../contract/events.ts';
import { SEVERITIES } from '../../../contract/alert.ts';
import { isWebhookSecret } from './standard-webhooks.ts';

/** The PagerDuty Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** The path of PagerDuty's Change Events API v2, on the origin of the notifier's `url`. */
export const PAGERDUTY_CHANGE_EVENTS_PATH = '/v2/change/enqueue';

/** Default time to wait for a receiver's response. */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;

/** Accepts one value or a list (`severity: critical` or `severity: [critical, warning]`), yields a list. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1)]).transform((value): Array<z.output<T>> => (Array.isArray(value) ? value : [value]));
}

/**
 * An absolute http(s) URL: where changewatch POSTs (notify endpoints, `rollback.webhook.url`). Any
 * other scheme (file:, ftp:, data:, gopher:, …) is refused at config validation; the message names
 * the scheme only, never the URL, whose path or query may hold a secret.
 */
export const httpUrlSchema = z.string().superRefine((value, ctx) => {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
    return;
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, not "${protocol}" (changewatch only sends HTTP requests)` });
  }
});

/**
 * Which incidents an endpoint receives. Every key given must match (AND); within a key any listed
 * value matches (OR). `authorType` matches the author of the incident's top suspect, so an
 * incident with no suspect never matches an `authorType` route.
 */
export const routeMatchSchema = z.strictObject({
  service: oneOrMany(z.string().min(1)).optional(),
  environment: oneOrMany(z.string().min(1)).optional(),
  severity: oneOrMany(z.enum(SEVERITIES)).optional(),
  authorType: oneOrMany(z.enum(AUTHOR_TYPES)).optional(),
});
/** A parsed route matcher. */
export type RouteMatch = z.output<typeof routeMatchSchema>;

/** Keys every notifier block has. */
const commonKeys = {
  /** Unique endpoint name: outbox rows, circuit breakers and logs refer to it. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  /**
   * Time to wait for a response before the attempt counts as a (retryable) timeout. Capped well
   * below the delivery worker's 60 s lease so an attempt never outlives its lease.
   */
  timeoutMs: z.number().int().min(100).max(30_000).default(DEFAULT_NOTIFY_TIMEOUT_MS),
  /** Omitted: the endpoint receives every incident. */
  match: routeMatchSchema.optional(),
};

/** `type: pagerduty`: PagerDuty Events API v2. */
export const pagerDutyConfigSchema = z.strictObject({
  ...commonKeys,
  type: z.literal('pagerduty'),
  /** Overridable for tests and EU accounts (events.eu.pagerduty.com). */
  url: httpUrlSchema.default(PAGERDUTY_EVENTS_URL),
  /** The integration's routing key (a secret). */
  routingKey: z.string().min(1, 'is required'),
  /** Also send every change changewatch sees as a PagerDuty Change Event (once per change id). */
  changeEvents: z.boolean().default(false),
  /** Where Change Events go; default `/v2/change/enqueue` on the origin of `url`. */
  changeEventsUrl: httpUrlSchema.optional(),
});
/** A parsed PagerDuty block. */
export type PagerDutyConfig = z.output<typeof pagerDutyConfigSchema>;

/** `type: slack`: a Slack incoming webhook. */
export const slackConfigSchema = z.strictObject({
  ...commonKeys,
  type: z.literal('slack'),
  /** The incoming-webhook URL (a secret: the token is in its path). */
  url: httpUrlSchema,
});
/** A parsed Slack block. */
export type SlackConfig = z.output<typeof slackConfigSchema>;

/** `type: webhook`: JSON signed per Standard Webhooks. */
export const webhookConfigSchema = z.strictObject({
  ...commonKeys,
  type: z.literal('webhook'),
  url: httpUrlSchema,
  /** Signing secret in Standard Webhooks form, `whsec_<base64 key>`. */
  secret: z.string().refine(isWebhookSecret, 'must have the form whsec_<base64 key>'),
});
/** A parsed webhook block. */
export type WebhookConfig = z.output<typeof webhookConfigSchema>;

/** HTTP Basic credentials for a receiver; the password is a secret. */
const basicAuthSchema = z.strictObject({
  username: z.string().min(1, 'is required'),
  password: z.string().min(1, 'is required'),
});

/** `type: alertmanager`: the payload of Alertmanager's webhook_config (version "4"). */
export const alertmanagerConfigSchema = z
  .strictObject({
    ...commonKeys,
    type: z.literal('alertmanager'),
    url: httpUrlSchema,
    /** `externalURL` of the payload; default the changewatch dashboard (`publicUrl`). */
    externalURL: httpUrlSchema.optional(),
    /** Alertmanager's `max_alerts`: at most this many alerts per message, the rest counted in `truncatedAlerts`; 0 = all. */
    maxAlerts: z.number().int().min(0).default(0),
    /** Optional HTTP Basic auth (the password is a secret). */
    basicAuth: basicAuthSchema.optional(),
    /** Optional `Authorization: Bearer` token (a secret). */
    bearerToken: z.string().min(1, 'must not be empty').optional(),
  })
  .refine((config) => config.basicAuth === undefined || config.bearerToken === undefined, {
    message: 'give basicAuth or bearerToken, not both',
    path: ['bearerToken'],
  });
/** A parsed Alertmanager-compatible block. */
export type AlertmanagerConfig = z.output<typeof alertmanagerConfigSchema>;

/** `type: grafana`: annotations through Grafana's HTTP API. */
export const grafanaConfigSchema = z.strictObject({
  ...commonKeys,
  type: z.literal('grafana'),
  /** Grafana's base URL, e.g. https://grafana.example.com; annotations are POSTed to `<url>/api/annotations`. */
  url: httpUrlSchema,
  /** A service account token with the annotations:write permission (a secret). */
  token: z.string().min(1, 'is required'),
  /** Annotate this dashboard only; omitted, annotations are organization-wide (shown through tag queries). */
  dashboardUID: z.string().min(1).optional(),
  /** Tags added to every annotation, besides changewatch's own. */
  tags: z.array(z.string().min(1)).default([]),
  /** Annotate every change changewatch sees (once per change id). */
  changes: z.boolean().default(true),
});
/** A parsed Grafana block. */
export type GrafanaConfig = z.output<typeof grafanaConfigSchema>;

/** One entry of `notify:`. */
export const notifierConfigSchema = z.discriminatedUnion('type', [
  pagerDutyConfigSchema,
  slackConfigSchema,
  webhookConfigSchema,
  alertmanagerConfigSchema,
  grafanaConfigSchema,
]);
/** A parsed notifier block. */
export type NotifierConfig = z.output<typeof notifierConfigSchema>;

/** The whole `notify:` list; endpoint names must be unique. */
export const notifyConfigSchema = z.array(notifierConfigSchema).superRefine((configs, ctx) => {
  const seen = new Set<string>();
  configs.forEach((config, index) => {
    if (seen.has(config.name)) {
      ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate notifier name "${config.name}"` });
    }
    seen.add(config.name);
  });
});
