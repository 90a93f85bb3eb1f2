/**
 * Keeps secrets out of logs, errors and outbox rows: every string a notifier reports passes through
 * a redactor that knows that endpoint's routing key, signing secret and URL.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** Secrets shorter than this are not searched for: they would match ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** Replaces every known secret (and its URL-encoded form) in a string. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: ReadonlyArray<string | undefined>) {
    const all = new Set<string>();
    for (const secret of secrets) {
      if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
      all.add(secret);
      all.add(encodeURIComponent(secret));
    }
    // Longest first, so a URL is replaced whole before the token inside it.
    this.secrets = [...all].sort((a, b) => b.length - a.length);
  }

  /** `text` with every secret replaced by `[redacted]`. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.replaceAll(secret, REDACTED);
    return result;
  }
}

/**
 * The secret parts of an endpoint URL: the whole URL, its credentials, path (Slack and many hook
 * URLs carry the token in the path) and query values.
 */
export function urlSecrets(rawUrl: string): string[] {
  const secrets = [rawUrl];
  try {
    const url = new URL(rawUrl);
    secrets.push(url.href, url.username, url.password);
    if (url.pathname.length > 1) secrets.push(url.pathname, ...url.pathname.split('/').filter((part) => part.length >= 8));
    for (const value of url.searchParams.values()) secrets.push(value);
  } catch {
    // An unparseable URL is still redacted whole.
  }
  return secrets;
}

/** The part of an endpoint URL that is safe to show: scheme, host and port only. */
export function safeOrigin(rawUrl: string): string {
  try {
    return new URL(rawUrl).origin;
  } catch {
    return '(invalid url)';
  }
}
