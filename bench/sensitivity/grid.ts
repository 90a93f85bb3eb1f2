/**
 * The sensitivity benchmark's grid: metric kinds, change shapes, noise, sampling, history, seasonality and
 * rollouts, and how one case is drawn from it. Each (kind × shape) row gets cases on every seed (stratified),
 * and every other dimension is drawn at random per case from a seeded stream (Monte Carlo over the grid).
 */
import { hashSeed, logUniform, mulberry32, pick, uniform, type Rng } from './rng.ts';

/** The kinds of telemetry generated, each with its realistic metric name. */
export type Kind = 'latency' | 'ratio-counted' | 'ratio-uncounted' | 'rate' | 'counter' | 'saturation';

/** Every kind, in table order. */
export const KINDS: readonly Kind[] = ['latency', 'ratio-counted', 'ratio-uncounted', 'rate', 'counter', 'saturation'];

/** The metric name each kind is reported under (the pipeline infers the kind from it, as in production). */
export const METRIC_OF: Readonly<Record<Kind, string>> = {
  latency: 'latency_p99',
  'ratio-counted': 'error_rate',
  'ratio-uncounted': 'error_rate',
  rate: 'requests_per_sec',
  counter: 'http_requests_total',
  saturation: 'cpu_utilization',
};

/** A change injected at the onset: its table name and how it moves the series. */
export interface Shape {
  name: string;
  type: 'step' | 'zero' | 'ramp' | 'variance' | 'stopped';
  /** Level factor after the onset (steps), the ramp's final factor (ramps), 1 otherwise. */
  factor: number;
  /** Duration of a ramp from 1× to `factor`; 0 otherwise. */
  rampMs: number;
  /** True when the change arrives with a bad version v2 rolled out 10 % → 50 % → 100 %. */
  rollout: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const STEP_FACTORS = [1.3, 1.5, 2, 4, 10];

function step(direction: 'up' | 'down', factor: number, rollout = false): Shape {
  return { name: `${rollout ? 'rollout-' : ''}step-${direction}-${factor}x`, type: 'step', factor: direction === 'up' ? factor : 1 / factor, rampMs: 0, rollout };
}

/** The change shapes that apply to `kind`: error ratios get no "down" steps and no drop to zero (fewer errors is no incident). */
export function shapesFor(kind: Kind): Shape[] {
  const ratio = kind === 'ratio-counted' || kind === 'ratio-uncounted';
  const shapes: Shape[] = STEP_FACTORS.map((f) => step('up', f));
  if (!ratio) shapes.push(...STEP_FACTORS.map((f) => step('down', f)), { name: 'drop-to-zero', type: 'zero', factor: 0, rampMs: 0, rollout: false });
  for (const minutes of [5, 15, 60]) shapes.push({ name: `ramp-2x-${minutes}m`, type: 'ramp', factor: 2, rampMs: minutes * MINUTE, rollout: false });
  shapes.push({ name: 'variance-x4', type: 'variance', factor: 1, rampMs: 0, rollout: false });
  shapes.push({ name: 'stopped-reporting', type: 'stopped', factor: 1, rampMs: 0, rollout: false });
  shapes.push(step('up', 1.5, true), step('up', 2, true), step('up', 4, true));
  if (!ratio) shapes.push(step('down', 2, true));
  return shapes;
}

/** Every (kind × shape) row of the table, in table order. */
export function allRows(): Array<{ kind: Kind; shape: Shape }> {
  return KINDS.flatMap((kind) => shapesFor(kind).map((shape) => ({ kind, shape })));
}

/** Relative noise levels (for saturation: absolute, as a fraction of the base level). */
export const NOISE_LEVELS = [0.01, 0.03, 0.07, 0.15, 0.3];
/** Gaussian noise, or Gaussian plus a blip of 2–3× (or ÷) on about one point in 500. */
export type NoiseModel = 'gaussian' | 'heavy';
/** Both noise models. */
export const NOISE_MODELS: readonly NoiseModel[] = ['gaussian', 'heavy'];
/** Sampling intervals: 10 s, 30 s, 60 s, 5 min. */
export const INTERVALS_MS = [10_000, 30_000, 60_000, 300_000];
/** Seasonality: none, daily (trough at night), daily with lower weekends. */
export type Seasonality = 'none' | 'daily' | 'weekly';
/** Every seasonality. */
export const SEASONALITIES: readonly Seasonality[] = ['none', 'daily', 'weekly'];

/** A history length before the onset: a point count or a duration. */
export interface History {
  label: string;
  points?: number;
  ms?: number;
}
/** History lengths before the onset: 30 and 100 points, 6 h, 1, 3 and 14 days. */
export const HISTORIES: readonly History[] = [
  { label: '30pts', points: 30 },
  { label: '100pts', points: 100 },
  { label: '6h', ms: 6 * HOUR },
  { label: '1d', ms: DAY },
  { label: '3d', ms: 3 * DAY },
  { label: '14d', ms: 14 * DAY },
];
/**
 * Most history points generated for one series (14 days at 60 s): longer histories are only drawn at
 * intervals where they fit, so 14 d runs at 60 s and 5 min, 3 d from 30 s, and 10 s goes up to 1 d.
 */
export const MAX_HISTORY_POINTS = 20_160;

/** Number of points of `history` at `intervalMs`. */
export function historyPoints(history: History, intervalMs: number): number {
  return history.points ?? Math.round(history.ms! / intervalMs);
}

/** The histories drawn at `intervalMs` (those within `MAX_HISTORY_POINTS`). */
export function historiesAt(intervalMs: number): History[] {
  return HISTORIES.filter((h) => historyPoints(h, intervalMs) <= MAX_HISTORY_POINTS);
}

/** A version rollout: v2 appears at point `at`, serves 10 % for `stage` points, 50 % for `stage` points, then 100 %. */
export interface Rollout {
  at: number;
  stage: number;
  /** True when v2 carries the case's change; false for a good rollout (v2 behaves exactly like v1). */
  bad: boolean;
}

/** Everything needed to generate one series (and its twin) deterministically. */
export interface CaseSpec {
  id: string;
  /** Seed of the series' per-point randomness. */
  seed: number;
  kind: Kind;
  metric: string;
  service: string;
  /** The change, or null for a no-change (quiet) series. */
  shape: Shape | null;
  noise: number;
  noiseModel: NoiseModel;
  intervalMs: number;
  irregular: boolean;
  history: string;
  /** Points before the onset (the onset is point index `onsetIndex`). */
  onsetIndex: number;
  /** Points from the onset on (for a quiet series: after `onsetIndex`, which is then just where history ends). */
  postPoints: number;
  seasonality: Seasonality;
  /** Daily amplitude (10–40 %) and weekend dip (20–40 %); 0 when not seasonal. */
  amplitude: number;
  weekendDip: number;
  /** Base level: ms (latency), ratio, requests per second, utilization. */
  base: number;
  /** Requests behind each error-ratio point (ratio-counted). */
  requests: number;
  /** First timestamp (epoch ms). */
  startTs: number;
  rollout: Rollout | null;
  /** A second series of the same service keeps reporting (the silence check needs one). */
  companion: boolean;
}

const SERVICES = ['checkout', 'payments', 'search', 'inventory', 'auth', 'cart', 'shipping', 'catalog'];
/** A Monday: onsets fall anywhere in the following week, so they meet every time of day and weekends. */
const WEEK_START = Date.UTC(2026, 2, 2);

/** Base levels by kind, drawn log-uniformly in the ranges the brief asks for. */
function baseOf(rng: Rng, kind: Kind): number {
  switch (kind) {
    case 'latency':
      return logUniform(rng, 50, 500);
    case 'ratio-counted':
    case 'ratio-uncounted':
      return logUniform(rng, 0.001, 0.03);
    case 'rate':
    case 'counter':
      return logUniform(rng, 20, 2000);
    case 'saturation':
      return uniform(rng, 0.2, 0.7);
  }
}

/** Points observed after the onset: an hour (at least 60 points), plus the ramp's duration. */
function postPointsOf(shape: Shape | null, intervalMs: number): number {
  return Math.max(60, Math.ceil(HOUR / intervalMs)) + (shape ? Math.ceil(shape.rampMs / intervalMs) : 0);
}

/** Draws the nuisance dimensions shared by change cases and quiet series. */
function drawCommon(rng: Rng, kind: Kind, intervalMs: number) {
  const history = pick(rng, historiesAt(intervalMs));
  const seasonality = pick(rng, SEASONALITIES);
  return {
    noise: pick(rng, NOISE_LEVELS),
    noiseModel: pick(rng, NOISE_MODELS),
    irregular: rng() < 0.5,
    history,
    seasonality,
    amplitude: seasonality === 'none' ? 0 : uniform(rng, 0.1, 0.4),
    weekendDip: seasonality === 'weekly' ? uniform(rng, 0.2, 0.4) : 0,
    base: baseOf(rng, kind),
    requests: Math.round(logUniform(rng, 200, 5000)),
    service: pick(rng, SERVICES),
  };
}

/** Draws change case `index` of `seed` for the row (`kind`, `shape`): every other dimension at random. */
export function drawCase(seed: number, index: number, kind: Kind, shape: Shape): CaseSpec {
  const rng = mulberry32(hashSeed(seed, 'case', kind, shape.name, index));
  const intervalMs = pick(rng, INTERVALS_MS);
  const c = drawCommon(rng, kind, intervalMs);
  const onsetIndex = historyPoints(c.history, intervalMs);
  const onsetTs = WEEK_START + Math.floor(rng() * 7 * DAY);
  const stage = 1 + Math.floor(rng() * 3);
  return {
    id: `${seed}-${kind}-${shape.name}-${index}`,
    seed: hashSeed(seed, 'series', kind, shape.name, index),
    kind,
    metric: METRIC_OF[kind],
    service: c.service,
    shape,
    noise: c.noise,
    noiseModel: c.noiseModel,
    intervalMs,
    irregular: c.irregular,
    history: c.history.label,
    onsetIndex,
    postPoints: postPointsOf(shape, intervalMs),
    seasonality: c.seasonality,
    amplitude: c.amplitude,
    weekendDip: c.weekendDip,
    base: c.base,
    requests: c.requests,
    // Approximately: irregular sampling keeps the mean interval, so the onset lands near `onsetTs`.
    startTs: onsetTs - onsetIndex * intervalMs,
    rollout: shape.rollout ? { at: onsetIndex, stage, bad: true } : null,
    companion: shape.type === 'stopped',
  };
}

/**
 * Draws quiet (no-change) series `index` for the false-alarm cell (`intervalMs`, `noiseModel`): a history as
 * for change cases plus one day, a good rollout (v2 identical to v1) in 30 % of them and a companion series
 * in 25 % (so the silence check runs on irregular sampling too).
 */
export function drawQuiet(seed: number, index: number, intervalMs: number, noiseModel: NoiseModel): CaseSpec {
  const rng = mulberry32(hashSeed(seed, 'quiet', intervalMs, noiseModel, index));
  const kind = pick(rng, KINDS);
  const c = drawCommon(rng, kind, intervalMs);
  const onsetIndex = historyPoints(c.history, intervalMs);
  const postPoints = Math.round(DAY / intervalMs);
  const total = onsetIndex + postPoints;
  const goodRollout = rng() < 0.3;
  const at = 30 + Math.floor(rng() * (total - 60));
  const stage = 1 + Math.floor(rng() * 3);
  const companion = rng() < 0.25;
  return {
    id: `quiet-${seed}-${intervalMs / 1000}s-${noiseModel}-${index}`,
    seed: hashSeed(seed, 'quiet-series', intervalMs, noiseModel, index),
    kind,
    metric: METRIC_OF[kind],
    service: c.service,
    shape: null,
    noise: c.noise,
    noiseModel,
    intervalMs,
    irregular: c.irregular,
    history: c.history.label,
    onsetIndex,
    postPoints,
    seasonality: c.seasonality,
    amplitude: c.amplitude,
    weekendDip: c.weekendDip,
    base: c.base,
    requests: c.requests,
    startTs: WEEK_START + Math.floor(rng() * 7 * DAY) - onsetIndex * intervalMs,
    rollout: goodRollout ? { at, stage, bad: false } : null,
    companion,
  };
}

/** A short label of a sampling interval: "10s", "5m". */
export function intervalLabel(intervalMs: number): string {
  return intervalMs >= MINUTE && intervalMs % MINUTE === 0 && intervalMs > MINUTE ? `${intervalMs / MINUTE}m` : `${intervalMs / 1000}s`;
}
