/**
 * Flat-line: how long the value has stayed exactly the same, calibrated against the series' own runs.
 * Catches a metric that freezes (a stuck exporter, a dead process reporting its last value), and with
 * `silence(now)` a metric that stops reporting at all.
 *
 * A series that is often constant (a counter idle at night) learns that long runs are normal; one that
 * changes every sample flags a run of a dozen identical values.
 *
 * @example
 * ```ts
 * const d = flatline.create();
 * for (let i = 0; i < 500; i++) d.update({ timestamp: i * 60_000, value: Math.sin(i) });
 * for (let i = 500; i < 530; i++) d.update({ timestamp: i * 60_000, value: 0.5 }); // score climbs
 * d.silence(600 * 60_000).score; // 70 missed one-minute intervals: close to 1
 * ```
 */
import { BASE_SCALARS, CalibratedDetector, type CalibratedOptions, type CalibratedState, type Observation } from './internal/calibrated.ts';
import { formatNumber } from './internal/format.ts';
import type { DetectorDefinition, Score } from './types.ts';

/** Options of the flat-line detector. */
export interface FlatlineOptions extends CalibratedOptions {
  /** EWMA rate of the typical interval between points. */
  intervalRate: number;
  /** `silence` scores 0.5 after this many typical intervals without a point. */
  silentIntervals: number;
}

const DEFAULTS: FlatlineOptions = { warmup: 100, tailDecay: 0.0003, intervalRate: 0.05, silentIntervals: 10 };

const RUN = BASE_SCALARS;
const RUN_VALUE = RUN + 1;
const INTERVAL = RUN + 2;
const LAST_SEEN = RUN + 3;
const SCALARS = 4;

class Flatline extends CalibratedDetector<FlatlineOptions> {
  readonly method = 'flatline';

  protected start(x: number, time: number): void {
    this.s[RUN_VALUE] = x;
    this.s[LAST_SEEN] = time;
  }

  protected observe(x: number, time: number): Observation {
    const s = this.s;
    const ended = x !== s[RUN_VALUE];
    const finished = s[RUN]!;
    s[RUN] = ended ? 0 : s[RUN]! + 1;
    s[RUN_VALUE] = x;
    const elapsed = time - s[LAST_SEEN]!;
    if (elapsed > 0) {
      s[INTERVAL] = s[INTERVAL] === 0 ? elapsed : s[INTERVAL]! + this.options.intervalRate * (elapsed - s[INTERVAL]!);
      s[LAST_SEEN] = time;
    }
    // Runs are learned when they end, so a growing run is compared with finished ones, not with itself.
    return { statistic: s[RUN]!, expected: x, band: 0, what: `unchanged for ${s[RUN]! + 1} points`, learned: ended ? finished : null };
  }

  /** Scores the silence between the last point and `now`: 0.5 after `silentIntervals` typical intervals. */
  silence(now: number): Score {
    const s = this.s;
    const interval = s[INTERVAL]!;
    const silent = now - s[LAST_SEEN]!;
    if (this.count <= this.options.warmup || !(interval > 0) || !(silent > 0)) {
      return { score: 0, expected: s[RUN_VALUE]!, lower: s[RUN_VALUE]!, upper: s[RUN_VALUE]!, reason: 'reporting' };
    }
    const missed = silent / interval;
    const score = missed / (missed + this.options.silentIntervals);
    return {
      score,
      expected: s[RUN_VALUE]!,
      lower: s[RUN_VALUE]!,
      upper: s[RUN_VALUE]!,
      reason: `no point for ${formatNumber(silent / 1000)} s, about ${formatNumber(missed)} usual intervals`,
    };
  }
}

/** Registry entry for the flat-line detector. */
export const flatline: DetectorDefinition<FlatlineOptions, CalibratedState> = {
  method: 'flatline',
  description: 'Flags a metric whose value freezes for unusually long, and (via silence) one that stops reporting.',
  defaults: DEFAULTS,
  create: (options) => new Flatline({ ...DEFAULTS, ...options }, ...CalibratedDetector.allocate(SCALARS, 0)),
  restore: (state) => new Flatline({ ...DEFAULTS, ...(state.options as Partial<FlatlineOptions>) }, ...CalibratedDetector.load(state.state, SCALARS, 0)),
};
