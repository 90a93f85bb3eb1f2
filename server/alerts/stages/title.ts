/**
 * Incident titles in the words a person uses: "checkout error rate 9x — likely kiro's deploy 'Add
 * retries to the order client' (v2.19.2)" when a change is the likely cause, "checkout p99 latency
 * +60%" when none is. Titles head pages, Slack messages and the dashboard's incident list, so they
 * are bounded: the change's summary is shortened first, then the whole line.
 */
import type { Alert } from '../../../contract/alert.ts';
import { CHANGE_TYPE_WORDS, type Suspect } from '../../../contract/events.ts';
import { metricKindOf } from '../../../detectors/metric-kind.ts';

/** Longest title, characters (PagerDuty summaries allow 1,024, but a title is read at a glance). */
export const MAX_TITLE_LENGTH = 140;
/** Longest quoted change summary inside a title. */
const MAX_SUMMARY_LENGTH = 60;
/** A suspect is named in the title from this confidence on ("likely"), as it is in alert explanations. */
export const TITLE_SUSPECT_CONFIDENCE = 0.5;

/** "error rate", "p99 latency", "cpu utilization": a metric name with its separators as spaces and a percentile first. */
export function metricInWords(metric: string): string {
  const words = metric.split(/[_.\-\s]+/).filter(Boolean);
  const percentile = words.findIndex((word) => /^p\d{2,3}(\.\d+)?$/i.test(word));
  if (percentile > 0) words.unshift(...words.splice(percentile, 1));
  return words.join(' ') || metric;
}

/**
 * How far the alert's metric is from normal, as a person says it: "9x" (or "9x lower") for a
 * multiple, "+4.1 pp" for a small move of a ratio, "+60%" / "-40%" otherwise. Uses the peak
 * (the most extreme value since the onset) when the alert has one.
 */
export function effectInWords(alert: Pick<Alert, 'metric' | 'observed' | 'expected' | 'peak'>): string {
  const value = alert.peak ?? alert.observed;
  const expected = alert.expected;
  if (!Number.isFinite(value) || !Number.isFinite(expected)) return 'anomalous';
  const ratioMetric = metricKindOf(alert.metric) === 'ratio';
  if (expected > 0 && value > 0) {
    const factor = value / expected;
    if (factor >= 2) return `${multiple(factor)}x`;
    if (factor <= 0.5) return `${multiple(1 / factor)}x lower`;
  }
  if (ratioMetric) {
    // A ratio in [0, 1] moves in percentage points; one already in percent (…_pct) moves in its own units.
    const scale = Math.max(Math.abs(value), Math.abs(expected)) <= 1 ? 100 : 1;
    return `${signed((value - expected) * scale, 1)} pp`;
  }
  if (expected === 0) return value > 0 ? 'up from 0' : value < 0 ? 'down from 0' : 'anomalous';
  return `${signed(((value - expected) / Math.abs(expected)) * 100, 0)}%`;
}

/** "kiro's deploy 'Add retries to the order client' (v2.19.2)": who made which change, what it said, which version. */
export function authoredChangeInWords(suspect: Suspect): string {
  const { change } = suspect;
  const author = change.author;
  const who = author.type === 'ai_agent' ? (author.agent ?? author.name) : author.name;
  const kind = `${author.type === 'ai_assisted' ? 'AI-assisted ' : ''}${CHANGE_TYPE_WORDS[change.type] ?? change.type}`;
  const summary = change.summary?.trim() ? ` '${shorten(change.summary.trim(), MAX_SUMMARY_LENGTH)}'` : ` ${suspect.changeId}`;
  const version = change.version ? ` (${change.version})` : '';
  return `${who}'s ${kind}${summary}${version}`;
}

/**
 * The incident's title from its alerts: `lead` (the alert on the incident's service) says what moved
 * and by how much, `more` how many other alerts it groups, and the strongest top suspect at or above
 * {@link TITLE_SUSPECT_CONFIDENCE} which change likely did it.
 */
export function incidentTitle(lead: Alert | undefined, fallbackService: string, alerts: readonly Alert[]): string {
  const services = new Set(alerts.map((alert) => alert.service));
  const what = lead ? `${lead.service} ${metricInWords(lead.metric)} ${effectInWords(lead)}` : fallbackService;
  const more = alerts.length > 1 ? ` (+${alerts.length - 1} alert${alerts.length > 2 ? 's' : ''} on ${services.size} service${services.size > 1 ? 's' : ''})` : '';
  let suspect: Suspect | undefined;
  for (const alert of alerts) {
    const top = alert.suspects[0];
    if (top && top.confidence >= TITLE_SUSPECT_CONFIDENCE && (suspect === undefined || top.confidence > suspect.confidence)) suspect = top;
  }
  const cause = suspect ? ` — likely ${authoredChangeInWords(suspect)}` : '';
  return shorten(`${what}${more}${cause}`, MAX_TITLE_LENGTH);
}

function multiple(factor: number): string {
  return factor >= 10 ? String(Math.round(factor)) : String(Math.round(factor * 10) / 10);
}

function signed(value: number, decimals: number): string {
  const rounded = Number(value.toFixed(decimals));
  return `${rounded >= 0 ? '+' : '−'}${Math.abs(rounded).toFixed(decimals)}`;
}

/** `text` cut to `max` characters at a word boundary where one is near, with an ellipsis. */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}
