/**
 * Runs sensitivity cases through the real pipeline (`createPipeline(DEFAULT_PIPELINE_OPTIONS)`) and records,
 * per case, when the change was first alerted and how many false alarms its no-change twin raised.
 *
 * An alert is opened by an emission with status `firing` whose id was not seen before, on the case's
 * metric (a companion series' alerts are not counted). A change case runs its history once, checkpoints
 * the pipeline at the onset and continues twice: the live pipeline with the no-change twin to its end,
 * and a pipeline restored from the checkpoint with the change, until its first alert opened at or after
 * the onset. Alerts opened before the onset are false alarms, counted once, on the twin (whose history
 * is the same).
 */
import type { Alert } from '../../contract/alert.ts';
import { createPipeline } from '../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS, type Pipeline } from '../../server/pipeline/pipeline.ts';
import { CaseStream, type Emission } from './generate.ts';
import { allRows, drawCase, drawQuiet, INTERVALS_MS, NOISE_MODELS, type CaseSpec, type NoiseModel } from './grid.ts';
import { hashSeed } from './rng.ts';

const DAY = 86_400_000;
/** False alarms count after this many points of a series (its warm-up). */
export const WARMUP_POINTS = 30;

/** When a change case's change was first alerted. */
export interface Detection {
  detected: boolean;
  /** Points of the series from the onset up to the alert, the onset point being 1 (for a stopped series: points it should have sent). */
  delayPoints: number | null;
  /** Event time from the onset to the record that opened the alert. */
  delayMs: number | null;
  /** Detector name of the alert (for reports). */
  detector: string | null;
  /** True when an alert opened before the onset was still open at the onset (it can hide the change). */
  openAtOnset: boolean;
}

/** Alerts opened on a no-change series after its warm-up, and the series-days they were counted over. */
export interface FalseAlarms {
  alarms: number;
  seriesDays: number;
  /** For a series with a good rollout (a quiet one, or the twin of a bad one): alarms opened from its start until an hour after v2 reached 100 %; else null. */
  rolloutAlarms: number | null;
}

/** How long after a rollout completes its alarms are still blamed on it. */
const ROLLOUT_WINDOW_MS = 3_600_000;

/** The outcome of one case: its spec, its detection (null for a quiet series) and its (twin's) false alarms. */
export interface CaseResult {
  spec: CaseSpec;
  detection: Detection | null;
  falseAlarms: FalseAlarms;
}

/** A pipeline with the ids of the alerts it has emitted, calling `onOpen` for each alert it opens on the case's metric. */
class Feed {
  constructor(
    readonly pipeline: Pipeline,
    readonly seen: Set<string>,
    private readonly metric: string,
  ) {}

  /** Ingests one emission's records; calls `onOpen` for each alert opened on the case's metric. */
  feed(emission: Emission, onOpen: (alert: Alert) => void): void {
    for (const record of emission.records) {
      const { alerts } = this.pipeline.ingest(record);
      for (const alert of alerts) {
        if (alert.status !== 'firing' || this.seen.has(alert.id)) continue;
        this.seen.add(alert.id);
        if (alert.metric === this.metric) onOpen(alert);
      }
    }
  }
}

/** Runs one case (a change case with its twin, or a quiet series) and returns what it measured. */
export function runCase(spec: CaseSpec): CaseResult {
  const live = new Feed(createPipeline(DEFAULT_PIPELINE_OPTIONS), new Set(), spec.metric);
  const stream = new CaseStream(spec, false);
  let targetPoints = 0;
  let warmTs = Number.POSITIVE_INFINITY;
  let lastTs = Number.NaN;
  let alarms = 0;
  const alarmTimes: number[] = [];
  const countAlarm = (alert: Alert) => {
    const at = Date.parse(alert.startedAt);
    if (at < warmTs) return;
    alarms++;
    alarmTimes.push(at);
  };
  const step = (emission: Emission) => {
    if (emission.target) {
      if (targetPoints === WARMUP_POINTS) warmTs = emission.ts;
      targetPoints++;
      lastTs = emission.ts;
    }
    live.feed(emission, countAlarm);
  };

  let detection: Detection | null = null;
  if (spec.shape) {
    while (!stream.atOnset()) step(stream.next()!);
    const openAtOnset = live.pipeline.openAlerts().some((a) => a.metric === spec.metric);
    const changed = stream.fork(true);
    const fork = new Feed(createPipeline(DEFAULT_PIPELINE_OPTIONS, [], structuredClone(live.pipeline.snapshot())), new Set(live.seen), spec.metric);
    detection = detect(fork, changed, openAtOnset);
  }
  for (let e = stream.next(); e; e = stream.next()) step(e);
  const seriesDays = Number.isFinite(warmTs) ? (lastTs - warmTs) / DAY : 0;
  let rolloutAlarms: number | null = null;
  if (spec.rollout && stream.rolloutTs !== null) {
    const from = stream.rolloutTs;
    const to = from + 2 * spec.rollout.stage * spec.intervalMs + ROLLOUT_WINDOW_MS;
    rolloutAlarms = alarmTimes.filter((t) => t >= from && t <= to).length;
  }
  return { spec, detection, falseAlarms: { alarms, seriesDays, rolloutAlarms } };
}

/** Feeds the changed series until its first alert opened at or after the onset, or its end. */
function detect(feed: Feed, stream: CaseStream, openAtOnset: boolean): Detection {
  let points = 0;
  let found: { alert: Alert; ts: number; points: number } | null = null;
  for (let e = stream.next(); e && !found; e = stream.next()) {
    if (e.target) points++;
    const onset = stream.onsetTs!;
    feed.feed(e, (alert) => {
      if (!found && Date.parse(alert.startedAt) >= onset) found = { alert, ts: e.ts, points };
    });
  }
  if (!found) return { detected: false, delayPoints: null, delayMs: null, detector: null, openAtOnset };
  const hit = found as { alert: Alert; ts: number; points: number };
  return { detected: true, delayPoints: Math.max(1, hit.points), delayMs: hit.ts - stream.onsetTs!, detector: hit.alert.detector, openAtOnset };
}

/** What to run: seeds, cases per row per seed, the series-days each false-alarm cell must reach, and a row filter. */
export interface GridOptions {
  seeds: number[];
  perRow: number;
  faDays: number;
  only?: RegExp;
  /** Called after each case with the number done so far and the total of change cases. */
  onProgress?: (done: number, total: number, phase: 'changes' | 'quiet') => void;
}

/** The key of a false-alarm cell: sampling interval × noise model. */
export function faCellKey(intervalMs: number, model: NoiseModel): string {
  return `${intervalMs}/${model}`;
}

/**
 * Runs every row on every seed (`perRow` cases each), then tops the no-change grid up with quiet series
 * until every (sampling interval × noise model) cell has at least `faDays` series-days.
 */
export function runGrid(options: GridOptions): CaseResult[] {
  const rows = allRows().filter(({ kind, shape }) => !options.only || options.only.test(`${kind}/${shape.name}`));
  const total = options.seeds.length * rows.length * options.perRow;
  const results: CaseResult[] = [];
  for (const seed of options.seeds) {
    for (const { kind, shape } of rows) {
      for (let j = 0; j < options.perRow; j++) {
        results.push(runCase(drawCase(seed, j, kind, shape)));
        options.onProgress?.(results.length, total, 'changes');
      }
    }
  }
  const days = new Map<string, number>();
  for (const r of results) {
    const key = faCellKey(r.spec.intervalMs, r.spec.noiseModel);
    days.set(key, (days.get(key) ?? 0) + r.falseAlarms.seriesDays);
  }
  const quietSeed = hashSeed('quiet', options.seeds.join(','));
  for (const intervalMs of INTERVALS_MS) {
    for (const model of NOISE_MODELS) {
      const key = faCellKey(intervalMs, model);
      for (let j = 0; (days.get(key) ?? 0) < options.faDays; j++) {
        const result = runCase(drawQuiet(quietSeed, j, intervalMs, model));
        days.set(key, (days.get(key) ?? 0) + result.falseAlarms.seriesDays);
        results.push(result);
        options.onProgress?.(results.length, total, 'quiet');
      }
    }
  }
  return results;
}
