/**
 * Where metric charts get their data: the app provides a loader through Svelte context, so a chart
 * deep inside an alert card or incident needs no API client passed down through every list.
 */
import { getContext, setContext } from 'svelte';
import type { SeriesPointsResponse } from '../../../contract/series.ts';

/** Loads the recent history of an alert's series (`GET /api/v1/alerts/:id/points`). */
export type SeriesLoader = (alertId: string, signal: AbortSignal) => Promise<SeriesPointsResponse>;

const KEY = Symbol('series-loader');

/** Makes `loader` the charts' data source for the calling component and its descendants. */
export function provideSeriesLoader(loader: SeriesLoader): void {
  setContext(KEY, loader);
}

/** The charts' data source, or undefined when no ancestor provided one (a chart then shows nothing). */
export function seriesLoader(): SeriesLoader | undefined {
  return getContext<SeriesLoader | undefined>(KEY);
}
