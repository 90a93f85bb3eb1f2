/**
 * Synthetic telemetry for the sensitivity benchmark: one case's series (and, when it has one, a companion
 * series of the same service) as pipeline records in event-time order.
 *
 * Every point draws its randomness from its own seeded stream (case seed × point index) in a fixed order,
 * so the changed series and its no-change twin are identical before the onset and share their noise
 * after it: the only difference between them is the change. A stream can be forked at the onset.
 */
import type { ReplayRecord } from '../../server/wire/schemas.ts';
import type { CaseSpec } from './grid.ts';
import { binomial, normalQuantile } from './rng.ts';

/** Records of one event time, and whether they are (or would have been, for a stopped series) the target series' point. */
export interface Emission {
  ts: number;
  records: ReplayRecord[];
  /** True for a step of the target series (possibly with no records: a series that stopped reporting). */
  target: boolean;
}

const DAY = 86_400_000;
/** About one point in 500 is a blip in the heavy-tailed noise model. */
const BLIP_RATE = 1 / 500;
/** Draws per point: jitter, main noise, v2 noise, blip?, blip size, blip direction, binomial v1, binomial v2, request noise. */
const DRAWS = 9;
const [JITTER, Z_MAIN, Z_V2, BLIP, BLIP_SIZE, BLIP_DIR, BIN_V1, BIN_V2, Z_REQ] = [0, 1, 2, 3, 4, 5, 6, 7, 8] as const;

/** Fills `out` with the uniforms of point `index` of the stream `seed` (mulberry32 seeded per point). */
function fillDraws(seed: number, index: number, out: Float64Array): void {
  let a = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  for (let k = 0; k < DRAWS; k++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    // Strictly inside (0, 1), so quantiles stay finite.
    out[k] = (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  }
}

/** The seasonal factor at `ts`: daily (peak 15:00 UTC, trough 03:00) and, for `weekly`, lower weekends with 3-hour transitions. */
export function seasonFactor(spec: Pick<CaseSpec, 'seasonality' | 'amplitude' | 'weekendDip'>, ts: number): number {
  if (spec.seasonality === 'none') return 1;
  const hour = (((ts % DAY) + DAY) % DAY) / DAY;
  const daily = 1 + spec.amplitude * Math.cos(2 * Math.PI * (hour - 15 / 24));
  if (spec.seasonality !== 'weekly') return daily;
  // Days since Monday 00:00 UTC (1970-01-01 was a Thursday); the weekend is [5, 7).
  const x = (((ts / DAY + 3) % 7) + 7) % 7;
  const h = 1.5 / 24;
  let w: number;
  if (x >= 5 - h && x < 5 + h) w = (x - (5 - h)) / (2 * h);
  else if (x >= 5 + h && x < 7 - h) w = 1;
  else if (x >= 7 - h || x < h) w = (h - (x >= 7 - h ? x - 7 : x)) / (2 * h);
  else w = 0;
  w = 0.5 - 0.5 * Math.cos(Math.PI * w);
  return daily * (1 - spec.weekendDip * w);
}

const clip01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** A case's records in event-time order; `changed` says whether the change is applied from the onset. */
export class CaseStream {
  /** Index of the target series' next point. */
  private i = 0;
  /** Timestamp of the target's next point. */
  private t: number;
  private lastTargetTs = Number.NaN;
  /** Cumulative counts of a counter (v1 and, during a rollout, v2). */
  private cum1: number;
  private cum2 = 0;
  private ci = 0;
  private ct: number;
  /** Timestamp of the onset point, once reached. */
  onsetTs: number | null = null;
  /** Timestamp of the rollout's first v2 point, once reached. */
  rolloutTs: number | null = null;
  private readonly draws = new Float64Array(DRAWS);
  private readonly total: number;
  private readonly companionMetric: string;

  constructor(
    readonly spec: CaseSpec,
    readonly changed: boolean,
  ) {
    this.t = spec.startTs;
    this.ct = spec.startTs + spec.intervalMs / 2;
    this.total = spec.onsetIndex + spec.postPoints;
    // A counter that has been counting for a while (between a day and a month of its base rate).
    this.cum1 = Math.floor(spec.base * 86_400 * (1 + (spec.seed % 30)));
    this.companionMetric = spec.metric === 'requests_per_sec' ? 'latency_p99' : 'requests_per_sec';
  }

  /** A copy of this stream at its current position, with or without the change. */
  fork(changed: boolean): CaseStream {
    const copy = Object.assign(Object.create(CaseStream.prototype) as CaseStream, this, { changed });
    (copy as unknown as { draws: Float64Array }).draws = new Float64Array(DRAWS);
    return copy;
  }

  /** True when the next emission is the onset point (the place to fork a changed series from its twin). */
  atOnset(): boolean {
    return this.i === this.spec.onsetIndex && !(this.spec.companion && this.ct < this.t);
  }

  /** The next emission in event time, or null when the case is over. */
  next(): Emission | null {
    const targetLeft = this.i < this.total;
    if (this.spec.companion && (targetLeft ? this.ct < this.t : this.ct <= this.lastTargetTs)) return this.companionPoint();
    if (!targetLeft) return null;
    return this.targetPoint();
  }

  private companionPoint(): Emission {
    const spec = this.spec;
    fillDraws(spec.seed ^ 0x5bd1e995, this.ci, this.draws);
    const ts = this.ct;
    const z = normalQuantile(this.draws[Z_MAIN]!);
    const value = this.companionMetric === 'latency_p99' ? 120 * Math.exp(0.03 * z) : 100 * Math.exp(0.03 * z);
    this.ci++;
    this.ct = ts + this.gap(this.draws[JITTER]!);
    return { ts, target: false, records: [{ metric: { service: spec.service, metric: this.companionMetric, value, timestamp: ts } }] };
  }

  private gap(u: number): number {
    return Math.round(this.spec.intervalMs * (this.spec.irregular ? 1 + 0.8 * (u - 0.5) : 1));
  }

  private targetPoint(): Emission {
    const spec = this.spec;
    const i = this.i;
    const ts = this.t;
    const r = this.draws;
    fillDraws(spec.seed, i, r);
    const dt = (i === 0 ? spec.intervalMs : ts - this.lastTargetTs) / 1000;
    this.i++;
    this.lastTargetTs = ts;
    this.t = ts + this.gap(r[JITTER]!);
    if (i === spec.onsetIndex) this.onsetTs = ts;

    const shape = spec.shape;
    const active = this.changed && shape !== null && i >= spec.onsetIndex;
    if (active && shape.type === 'stopped') return { ts, target: true, records: [] };
    let factor = 1;
    if (active) {
      if (shape.type === 'step') factor = shape.factor;
      else if (shape.type === 'zero') factor = 0;
      else if (shape.type === 'ramp') factor = 1 + (shape.factor - 1) * Math.min(1, (ts - this.onsetTs!) / shape.rampMs);
    }
    const sigma = spec.noise * (active && shape.type === 'variance' ? 4 : 1);
    const blip = spec.noiseModel === 'heavy' && r[BLIP]! < BLIP_RATE ? (r[BLIP_DIR]! < 0.5 ? 1 / (2 + r[BLIP_SIZE]!) : 2 + r[BLIP_SIZE]!) : 1;
    const season = seasonFactor(spec, ts);
    const zMain = normalQuantile(r[Z_MAIN]!);

    const rollout = spec.rollout;
    const share = rollout === null || i < rollout.at ? 0 : i < rollout.at + rollout.stage ? 0.1 : i < rollout.at + 2 * rollout.stage ? 0.5 : 1;
    // Without a rollout the whole series carries the change; in one, only v2 does (and a good v2 none).
    const whole = rollout ? 1 : factor;
    const v2Factor = rollout?.bad ? factor : 1;
    const records: ReplayRecord[] = [];
    if (rollout && i === rollout.at) {
      this.rolloutTs = ts;
      records.push({
        change: {
          id: `chg-${spec.id}`,
          type: 'deploy',
          service: spec.service,
          environment: 'prod',
          timestamp: ts,
          version: 'v2',
          previousVersion: 'v1',
          author: { type: 'ai_agent', name: 'bench-agent' },
          summary: rollout.bad ? 'a bad version' : 'a good version',
        },
      });
    }
    const point = (value: number, version: string | null, count?: number) => {
      records.push({
        metric: { service: spec.service, metric: spec.metric, value, timestamp: ts, ...(count === undefined ? {} : { count }), ...(version ? { tags: { version } } : {}) },
      });
    };
    const v1 = rollout ? 'v1' : null;

    switch (spec.kind) {
      case 'latency':
      case 'ratio-uncounted':
      case 'saturation': {
        const level = (f: number, z: number) => {
          if (spec.kind === 'latency') return spec.base * season * f * Math.exp(sigma * z) * blip;
          if (spec.kind === 'ratio-uncounted') return clip01(spec.base * Math.sqrt(season) * f * Math.exp(sigma * z) * blip);
          return clip01((Math.min(1, spec.base * season * f) + sigma * spec.base * z) * blip);
        };
        if (share === 0) point(level(whole, zMain), v1);
        else if (share === 1) point(level(v2Factor, zMain), 'v2');
        else {
          point(level(1, zMain), 'v1');
          point(level(v2Factor, normalQuantile(r[Z_V2]!)), 'v2');
        }
        break;
      }
      case 'rate': {
        const rate = spec.base * season * Math.exp(sigma * zMain) * blip;
        if (share === 0) point(rate * whole, v1);
        else {
          if (share < 1) point(rate * (1 - share), 'v1');
          point(rate * share * v2Factor, 'v2');
        }
        break;
      }
      case 'counter': {
        const increment = spec.base * season * Math.exp(sigma * zMain) * blip * dt;
        if (share === 0) {
          this.cum1 += increment * whole;
          point(Math.round(this.cum1), v1);
        } else {
          // Each version counts its own requests from its own start: v2's counter starts at 0, v1's stops with its pods.
          this.cum2 += increment * share * v2Factor;
          if (share < 1) {
            this.cum1 += increment * (1 - share);
            point(Math.round(this.cum1), 'v1');
          }
          point(Math.round(this.cum2), 'v2');
        }
        break;
      }
      case 'ratio-counted': {
        const n = Math.max(1, Math.round(spec.requests * season * Math.exp(0.1 * normalQuantile(r[Z_REQ]!))));
        const p = spec.base * Math.sqrt(season) * Math.exp(sigma * zMain) * blip;
        if (share === 0) {
          const errors = binomial(n, Math.min(1, p * whole), r[BIN_V1]!);
          point(errors / n, v1, n);
        } else {
          const n2 = share === 1 ? n : Math.max(1, Math.round(n * share));
          const n1 = n - n2;
          if (share < 1) point(n1 > 0 ? binomial(n1, Math.min(1, p), r[BIN_V1]!) / n1 : 0, 'v1', n1);
          point(binomial(n2, Math.min(1, p * v2Factor), r[BIN_V2]!) / n2, 'v2', n2);
        }
        break;
      }
    }
    return { ts, target: true, records };
  }
}
