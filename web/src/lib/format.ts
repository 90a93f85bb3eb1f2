/**
 * Wording and number formatting shared by the dashboard's components.
 */
import { EVIDENCE_KIND_WORDS, type AuthorType, type ChangeType, type EvidenceKind } from '../../../contract/events.ts';
import type { AlertStatus, Severity } from '../../../contract/alert.ts';
import type { RollbackMode, RollbackStatus } from '../../../contract/automation.ts';

/** Display names of author types. */
export const AUTHOR_TYPE_LABELS: Record<AuthorType, string> = {
  ai_agent: 'AI agent',
  ai_assisted: 'AI-assisted',
  human: 'Human',
};

/**
 * What each kind of evidence means, in the words a person uses ("only the new version is
 * affected", "started right after the change"): the same words the server's sentences use.
 */
export const EVIDENCE_KIND_LABELS: Readonly<Record<EvidenceKind, string>> = EVIDENCE_KIND_WORDS;

/** Display names of change types. */
export const CHANGE_TYPE_LABELS: Record<ChangeType, string> = {
  deploy: 'Deploy',
  config: 'Config',
  feature_flag: 'Feature flag',
  infra: 'Infra',
  rollback: 'Rollback',
};

/** Display names of severities. */
export const SEVERITY_LABELS: Record<Severity, string> = {
  critical: 'Critical',
  warning: 'Warning',
  info: 'Info',
};

/** Display names of alert statuses. */
export const STATUS_LABELS: Record<AlertStatus, string> = {
  firing: 'Firing',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

/** Display names of rollback statuses, as a reviewer reads them. */
export const ROLLBACK_STATUS_LABELS: Record<RollbackStatus, string> = {
  pending: 'Awaiting approval',
  approved: 'Approved, sending',
  denied: 'Denied',
  expired: 'Expired',
  suppressed: 'Suppressed',
  dry_run: 'Dry run',
  executed: 'Sent to CD',
  failed: 'Failed',
};

/** What each `rollback.mode` means, in a sentence. */
export const ROLLBACK_MODE_DESCRIPTIONS: Record<RollbackMode, string> = {
  off: 'Rollbacks are not evaluated.',
  'dry-run': 'Rollbacks are recorded as they would have happened; nothing is proposed or sent.',
  'require-approval': 'Every rollback waits here for an operator to approve it.',
  automatic: 'Rollbacks backed by two kinds of evidence are sent without a person; the rest wait here.',
};

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "40 s ago", "3 min ago", "2 h ago", "5 d ago"; times in the future (clock skew) read "just now". */
export function formatRelativeTime(timeMs: number, nowMs: number): string {
  const age = nowMs - timeMs;
  if (age < 10 * SECOND) return 'just now';
  if (age < MINUTE) return `${Math.floor(age / SECOND)} s ago`;
  if (age < HOUR) return `${Math.floor(age / MINUTE)} min ago`;
  if (age < DAY) return `${Math.floor(age / HOUR)} h ago`;
  return `${Math.floor(age / DAY)} d ago`;
}

/** How absolute times are shown: the browser's local time zone, or UTC (what other tools and logs use). */
export type TimeZoneChoice = 'local' | 'utc';

const localFormats = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter for the local zone (or `timeZone`, an IANA name, for tests), with the zone's short name. */
function localFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let format = localFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
      ...(timeZone ? { timeZone } : {}),
    });
    localFormats.set(key, format);
  }
  return format;
}

function localParts(timeMs: number, timeZone: string | undefined): Record<string, string> {
  return Object.fromEntries(localFormat(timeZone).formatToParts(timeMs).map((part) => [part.type, part.value]));
}

/**
 * "2026-11-23 03:12:09 UTC", or in local time "2026-11-23 04:12:09 GMT+1" (the zone is always named,
 * so a time copied into a chat is never ambiguous). `timeZone` overrides the browser's zone (tests).
 */
export function formatAbsoluteTime(timeMs: number, zone: TimeZoneChoice = 'utc', timeZone?: string): string {
  if (zone === 'utc') return `${new Date(timeMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  const part = localParts(timeMs, timeZone);
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second} ${part.timeZoneName}`;
}

/** "2026-11-23": the UTC calendar date. */
export function formatUtcDate(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 10);
}

/** "2026-11-23": the calendar date in UTC or in local time (`timeZone` overrides the browser's zone). */
export function formatCalendarDate(timeMs: number, zone: TimeZoneChoice = 'utc', timeZone?: string): string {
  if (zone === 'utc') return formatUtcDate(timeMs);
  const part = localParts(timeMs, timeZone);
  return `${part.year}-${part.month}-${part.day}`;
}

/** The name of the zone times are shown in: "UTC", or the local zone's short name ("GMT+1", "PST"). */
export function timeZoneLabel(zone: TimeZoneChoice, timeMs = Date.now(), timeZone?: string): string {
  return zone === 'utc' ? 'UTC' : (localParts(timeMs, timeZone).timeZoneName ?? 'local time');
}

/** "5 min", "1 h 20 min", "40 s": a positive duration, coarsely. */
export function formatDuration(durationMs: number): string {
  const ms = Math.abs(durationMs);
  // Rounded before it is split, so 3 h 59 min 59 s reads "4 h", not "3 h 60 min".
  const seconds = Math.round(ms / SECOND);
  if (seconds < 60) return `${seconds} s`;
  const totalMinutes = Math.round(ms / MINUTE);
  if (totalMinutes < 60) return `${totalMinutes} min`;
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

/**
 * "expires in 12 min", "expires in 40 s", or "approval window passed" once the deadline is behind
 * `nowMs`. Rounded up, as countdowns are: "1 min" means at most one minute is left.
 */
export function formatExpiry(deadlineMs: number, nowMs: number): string {
  const left = deadlineMs - nowMs;
  if (left <= 0) return 'approval window passed';
  if (left < MINUTE) return `expires in ${Math.ceil(left / SECOND)} s`;
  if (left < HOUR) return `expires in ${Math.ceil(left / MINUTE)} min`;
  return `expires in ${formatDuration(left)}`;
}

/** A probability as a whole percentage; values that would round to 0 % or 100 % but are not say so ("<1%", ">99%"). */
export function formatPercent(probability: number): string {
  if (probability > 0 && probability < 0.005) return '<1%';
  if (probability < 1 && probability > 0.995) return '>99%';
  return `${Math.round(probability * 100)}%`;
}

const metricFormat = new Intl.NumberFormat('en', { maximumSignificantDigits: 3 });

/** A metric value to three significant digits ("0.0523", "1,230"). */
export function formatMetricValue(value: number): string {
  return metricFormat.format(value);
}

const countFormat = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });

/** A counter, compact when large ("950", "12.3K", "4.1M"). */
export function formatCount(count: number): string {
  return countFormat.format(count);
}

/** How sure attribution is, in words, so the number is never the only cue. */
export function confidenceLevel(probability: number): 'High' | 'Medium' | 'Low' {
  if (probability >= 0.7) return 'High';
  if (probability >= 0.4) return 'Medium';
  return 'Low';
}

/** The URL if it is an absolute http(s) URL, else undefined: change events come from outside, and a `javascript:` link must never be clickable. */
export function safeHttpUrl(candidate: string | undefined): string | undefined {
  if (candidate === undefined || !URL.canParse(candidate)) return undefined;
  const { protocol } = new URL(candidate);
  return protocol === 'http:' || protocol === 'https:' ? candidate : undefined;
}

/** What each audit action records, as a person says it ("approved a rollback"); unknown actions are shown as they are spelled. */
export const AUDIT_ACTION_LABELS: Readonly<Record<string, string>> = {
  'rollback.propose': 'proposed a rollback',
  'rollback.approve': 'approved a rollback',
  'rollback.deny': 'denied a rollback',
  'rollback.expire': 'let a rollback expire',
  'rollback.dry_run': 'recorded a dry-run rollback',
  'rollback.suppress': 'suppressed a rollback',
  'rollback.executed': 'sent a rollback to CD',
  'rollback.failed': 'failed to send a rollback',
  'rollback.cancelled': 'cancelled a rollback (kill switch)',
  'killswitch.engage': 'engaged the kill switch',
  'killswitch.release': 'released the kill switch',
  'freeze.create': 'froze AI changes',
  'freeze.lift': 'lifted a freeze',
  'incident.acknowledge': 'acknowledged an incident',
  'incident.resolve': 'resolved an incident',
  'silence.create': 'created a silence',
  'silence.expire': 'expired a silence',
  'notification.dead': 'gave up on a notification',
  'notification.suppressed': 'held back a notification',
  'change.dead': 'refused a change event',
};
