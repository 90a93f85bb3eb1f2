/**
 * What a metric chart draws, worked out from a series-history response: uPlot's aligned columns
 * (time, value, band lower and upper, expected, one per version) and a sentence summarising it for
 * screen readers.
 */
import type { ChangeEvent } from '../../../contract/events.ts';
import type { SeriesPointsResponse } from '../../../contract/series.ts';
import { AUTHOR_TYPE_LABELS, formatAbsoluteTime, formatMetricValue, type TimeZoneChoice } from './format.ts';

/** Indexes of the fixed columns of {@link chartColumns}; version lines follow `EXPECTED`. */
export const COLUMN = { TIME: 0, VALUE: 1, LOWER: 2, UPPER: 3, EXPECTED: 4 } as const;

/** uPlot's aligned data: the x column (epoch ms) then one column per series, null for a gap. */
export type ChartColumns = [number[], ...Array<Array<number | null>>];

/** The response's points as uPlot columns, with one column per version line after the fixed ones. */
export function chartColumns(response: SeriesPointsResponse): ChartColumns {
  const { points } = response;
  return [
    points.map((p) => p.time),
    points.map((p) => p.value),
    points.map((p) => p.lower),
    points.map((p) => p.upper),
    points.map((p) => p.expected),
    ...response.versions.map((line) => line.values),
  ];
}

/** One sentence saying what the chart shows: the latest value against its band, the onset and the marked changes. */
export function chartSummary(response: SeriesPointsResponse, onsetMs: number | undefined, zone: TimeZoneChoice = 'utc'): string {
  const { service, metric } = response.series;
  const hours = Math.round((response.to - response.from) / 360_000) / 10;
  const last = response.points.at(-1);
  const parts = [`${metric} of ${service} over ${hours} h`];
  if (last) {
    const band = last.lower !== null && last.upper !== null ? `, normal band ${formatMetricValue(last.lower)} to ${formatMetricValue(last.upper)}` : '';
    parts.push(`latest ${formatMetricValue(last.value)}${last.expected === null ? '' : ` against an expected ${formatMetricValue(last.expected)}`}${band}`);
  } else {
    parts.push('no points yet');
  }
  if (onsetMs !== undefined) parts.push(`alert onset at ${formatAbsoluteTime(onsetMs, zone)}`);
  parts.push(changesPhrase(response.changes));
  if (response.versions.length) parts.push(`one line per version: ${response.versions.map((v) => v.version).join(', ')}`);
  return `${parts.join('; ')}.`;
}

/** What a change marker's accessible name says: who, what and when. */
export function changeLabel(change: ChangeEvent, zone: TimeZoneChoice = 'utc'): string {
  const who = change.author.agent ?? change.author.name;
  return `${AUTHOR_TYPE_LABELS[change.author.type]} change by ${who} to ${change.service} at ${formatAbsoluteTime(change.timestamp, zone)}${change.summary ? `: ${change.summary}` : ''}`;
}

function changesPhrase(changes: readonly ChangeEvent[]): string {
  if (changes.length === 0) return 'no changes on the service or its dependencies in this window';
  return `${changes.length} ${changes.length === 1 ? 'change' : 'changes'} marked`;
}
