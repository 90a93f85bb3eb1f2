/**
 * The series-history contract: what `GET /api/v1/series/:key/points` (and the same for one alert,
 * `GET /api/v1/alerts/:id/points`) answers, for the dashboard's metric charts.
 */
import type { ChangeEvent } from './events.ts';

/** One downsampled step of a series: the mean value and the detector's expected value and band; null where unknown. */
export interface SeriesPoint {
  /** Middle of the step, epoch milliseconds. */
  time: number;
  value: number;
  expected: number | null;
  lower: number | null;
  upper: number | null;
}

/** One version's own mean at each of the response's points, null where it did not report apart from other versions. */
export interface SeriesVersionLine {
  version: string;
  values: Array<number | null>;
}

/** Body of the series-history routes. */
export interface SeriesPointsResponse {
  series: {
    /** The series key (`service\0metric\0scope`). */
    key: string;
    service: string;
    metric: string;
    /** The metric's kind as the detectors read its name (latency, ratio, rate, counter, saturation, size, gauge). */
    kind: string;
  };
  /** The window served, epoch milliseconds (event time); `to` is exclusive. */
  from: number;
  to: number;
  /** Width of each point's step, milliseconds. */
  step: number;
  /** Oldest first; steps without data are left out. */
  points: SeriesPoint[];
  /** Only while a rollout splits the series between versions: one line per version. */
  versions: SeriesVersionLine[];
  /** The service and the services it depends on (the catalog, up to three hops), the service first. */
  services: string[];
  /** Changes on those services within the window, oldest first. */
  changes: ChangeEvent[];
}
