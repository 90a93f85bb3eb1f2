/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing and verification: headers
 * `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>`
 * over `${id}.${timestamp}.${body}`, keyed with the secret `whsec_<base64 key>`. Used by the webhook
 * notifier and the rollback webhook; receivers can verify with any Standard Webhooks library.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createError } from '../../errors.ts';

/** Prefix of a Standard Webhooks secret. */
const SECRET_PREFIX = 'whsec_';

/** How far a timestamp may be from the verifier's clock (replay protection), per the spec's default. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** The three headers of a signed webhook request (a type alias so it fits any header record). */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** True when `secret` is `whsec_` followed by a non-empty base64 key. */
export function isWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const key = secret.slice(SECRET_PREFIX.length);
  return key.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length > 0;
}

/** A new random secret in `whsec_` form (24 random bytes, as the reference libraries use). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** The HMAC key inside a `whsec_` secret; the error never includes the secret. */
function keyOf(secret: string): Buffer {
  if (!isWebhookSecret(secret)) {
    throw createError('CW_NOTIFY_CONFIG', 'webhook secret must have the form whsec_<base64 key>');
  }
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The `v1,<base64>` signature of one message. */
function sign(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** Signs `body` (the exact bytes to send) and returns the three headers. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': sign(keyOf(secret), id, timestampSeconds, body),
  };
}

/**
 * Verifies a received webhook: any of the space-separated `v1,` signatures must match (so senders
 * can rotate secrets) and the timestamp must be within `toleranceSeconds` of `nowSeconds`. Throws
 * `CW_WEBHOOK_SIGNATURE` otherwise. Header names are matched case-insensitively.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): void {
  const header = (name: string): string | undefined => {
    const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
    const value = entry?.[1];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw createError('CW_WEBHOOK_SIGNATURE', 'missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!/^\d+$/.test(timestamp)) throw createError('CW_WEBHOOK_SIGNATURE', 'webhook-timestamp is not unix seconds');
  const nowSeconds = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    throw createError('CW_WEBHOOK_SIGNATURE', 'webhook-timestamp is outside the allowed tolerance', { toleranceSeconds: tolerance });
  }
  const expected = Buffer.from(sign(keyOf(secret), id, Number(timestamp), body));
  const matches = signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw createError('CW_WEBHOOK_SIGNATURE', 'no webhook-signature matches');
}
