/**
 * Aggregation and tables of the sensitivity benchmark: per-row detection figures, false alarms per
 * (sampling interval × noise model) cell and per dimension, the product's targets with their verdicts and
 * the cells that lose most, and the summary that becomes the final JSON line.
 */
import { allRows, HISTORIES, intervalLabel, KINDS, type CaseSpec } from './grid.ts';
import type { CaseResult } from './run.ts';

const MINUTE = 60_000;

/** The product's sensitivity contract (issue 11): what the detector is held to. */
export const TARGETS = {
  step2x: {
    rate: 0.99,
    text: 'step ≥2× on latency (up or down) or an error ratio (up), or a traffic drop ≥50 % (rate or counter, incl. to zero); noise ≤15 %, history ≥30 points: alerted within max(3 points, 2 min)',
  },
  step1_5x: {
    rate: 0.9,
    text: 'step of 1.5× on the same kinds, in the direction that matters (latency ×1.5, error ratio ×1.5, traffic ÷1.5); noise ≤15 %: alerted within 5 points',
  },
  falseAlarms: { per100SeriesDays: 1, text: 'false alarms on no-change series ≤ 1 per 100 series-days in every (sampling interval × noise model) cell' },
} as const;

/**
 * Poisson standard errors a counted error ratio's step must be from its level, over the points its budget
 * allows, to be resolvable in time: five (the detector's threshold) plus 2.33 (so that 99 % of cases clear
 * it). With λ errors expected behind each point, k points of a step to f·λ are (f − 1)·√(kλ) standard
 * errors away: a doubling in 3 points needs λ ≥ 18, a 1.5× step in 5 points λ ≥ 43.
 */
export const RESOLVABLE_STANDARD_ERRORS = 7.33;

/** True when a counted error ratio's step of `factor` can be told from its noise within `points` points. */
export function resolvable(spec: CaseSpec, factor: number, points: number): boolean {
  if (spec.kind !== 'ratio-counted') return true;
  return (factor - 1) * Math.sqrt(points * spec.base * spec.requests) >= RESOLVABLE_STANDARD_ERRORS;
}

/**
 * The target a change case counts toward, if any (bad rollouts, 30 % noise and other shapes count toward none).
 * Steps of 2× count on latency both ways (the latency effect size reports a drop below 60 % too), error
 * ratios up and traffic down; 1.5× steps only in the direction that matters (a latency at 67 % of its level
 * is above the 60 % a drop must reach).
 */
export function targetOf(spec: CaseSpec): 'step2x' | 'step1_5x' | null {
  const shape = spec.shape;
  if (!shape || shape.rollout || spec.noise > 0.15) return null;
  const ratio = spec.kind === 'ratio-counted' || spec.kind === 'ratio-uncounted';
  const traffic = spec.kind === 'rate' || spec.kind === 'counter';
  if (shape.type === 'zero') return traffic ? 'step2x' : null;
  if (shape.type !== 'step') return null;
  const f = shape.factor;
  const qualifies = spec.kind === 'latency' || (ratio && f > 1) || (traffic && f < 1);
  if (!qualifies) return null;
  // An error ratio with counts can only be judged on the errors it has (`resolvable`): the cases that no
  // test could resolve in time stay in their rows (and in the table) but not in the targets.
  if (f >= 2 || f <= 0.5) return resolvable(spec, f, 3) ? 'step2x' : null;
  const latencyDown = spec.kind === 'latency' && f < 1;
  if (!latencyDown && (Math.abs(f - 1.5) < 1e-9 || Math.abs(f - 1 / 1.5) < 1e-9)) return resolvable(spec, f, 5) ? 'step1_5x' : null;
  return null;
}

/**
 * The budget a detection must meet to be "in time": steps of less than 2× get 5 points; ramps their duration
 * plus max(3 intervals, 2 min); everything else (steps ≥2×, drops to zero, variance bursts, stopped
 * reporting, bad rollouts) max(3 points, 2 min). Delays run from the onset (a ramp's start, a rollout's first v2 point).
 */
export function inTime(result: CaseResult): boolean {
  const d = result.detection;
  const shape = result.spec.shape;
  if (!d?.detected || !shape) return false;
  if (shape.type === 'ramp') return d.delayMs! <= shape.rampMs + Math.max(3 * result.spec.intervalMs, 2 * MINUTE);
  if (shape.type === 'step' && shape.factor < 2 && shape.factor > 0.5) return d.delayPoints! <= 5;
  return d.delayPoints! <= 3 || d.delayMs! <= 2 * MINUTE;
}

/** The budget of a row's shape, as printed. */
function budgetText(name: string): string {
  if (name.includes('ramp')) return 'ramp+max(3p,2m)';
  if (/-1\.[35]x$/.test(name)) return '5 points';
  return 'max(3p,2m)';
}

/** Nearest-rank quantile of sorted values; null when empty. */
function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? null : Number(x.toFixed(digits)));

/** One table row's figures: detection over its cases (delays over the detected ones) and its twins' false alarms. */
export interface RowStats {
  cases: number;
  detected: number;
  inTime: number;
  medianDelayPoints: number | null;
  p90DelayPoints: number | null;
  medianDelayMinutes: number | null;
  p90DelayMinutes: number | null;
  falseAlarms: number;
  seriesDays: number;
  falseAlarmsPer100SeriesDays: number | null;
}

/** False alarms over a set of no-change series. */
export interface AlarmStats {
  alarms: number;
  seriesDays: number;
  per100: number | null;
  /** Upper end of the 95 % confidence interval of `per100` (Poisson), for telling a met target from luck. */
  per100Upper95: number | null;
}

/** Upper end of the two-sided 95 % Poisson confidence interval of a count `k` (Wilson–Hilferty for the χ² quantile). */
export function poissonUpper95(k: number): number {
  const nu = 2 * (k + 1);
  const c = 2 / (9 * nu);
  return (nu * (1 - c + 1.959964 * Math.sqrt(c)) ** 3) / 2;
}

function alarmStats(results: CaseResult[]): AlarmStats {
  let alarms = 0;
  let seriesDays = 0;
  for (const r of results) {
    alarms += r.falseAlarms.alarms;
    seriesDays += r.falseAlarms.seriesDays;
  }
  return {
    alarms,
    seriesDays: round(seriesDays, 1)!,
    per100: seriesDays > 0 ? round((100 * alarms) / seriesDays, 3) : null,
    per100Upper95: seriesDays > 0 ? round((100 * poissonUpper95(alarms)) / seriesDays, 3) : null,
  };
}

/** Figures of the cases of one row. */
export function rowStats(results: CaseResult[]): RowStats {
  const detected = results.filter((r) => r.detection?.detected);
  const points = detected.map((r) => r.detection!.delayPoints!).sort((a, b) => a - b);
  const minutes = detected.map((r) => r.detection!.delayMs! / MINUTE).sort((a, b) => a - b);
  const fa = alarmStats(results);
  const n = results.length;
  return {
    cases: n,
    detected: n ? round(detected.length / n)! : 0,
    inTime: n ? round(results.filter(inTime).length / n)! : 0,
    medianDelayPoints: quantile(points, 0.5),
    p90DelayPoints: quantile(points, 0.9),
    medianDelayMinutes: round(quantile(minutes, 0.5), 2),
    p90DelayMinutes: round(quantile(minutes, 0.9), 2),
    falseAlarms: fa.alarms,
    seriesDays: fa.seriesDays,
    falseAlarmsPer100SeriesDays: fa.per100,
  };
}

/** Values of the dimensions a failing cell is described by. */
const DIMENSIONS: Record<string, (s: CaseSpec) => string> = {
  kind: (s) => s.kind,
  shape: (s) => s.shape?.name ?? 'none',
  noise: (s) => noiseLabel(s.noise),
  model: (s) => s.noiseModel,
  interval: (s) => intervalLabel(s.intervalMs),
  sampling: (s) => (s.irregular ? 'irregular' : 'regular'),
  history: (s) => s.history,
  seasonality: (s) => s.seasonality,
  // No-change series only ever see good rollouts: a bad rollout's twin rolls out a v2 identical to v1.
  rollout: (s) => (s.rollout ? 'good' : 'none'),
  companion: (s) => (s.companion ? 'yes' : 'no'),
  base: (s) => baseBucket(s),
};

/** A noise level as a percentage: "7%". */
function noiseLabel(noise: number): string {
  return `${Number((noise * 100).toFixed(1))}%`;
}

/** Where a dimension's value goes in a table: the grid's order (kinds, histories), else by its leading number, else by name. */
function valueOrder(a: string, b: string): number {
  const index = (v: string) => {
    const i = [...KINDS, ...HISTORIES.map((h) => h.label), 'none', 'daily', 'weekly', 'regular', 'irregular', 'good', 'bad', 'no', 'yes'].indexOf(v);
    return i < 0 ? Number.NaN : i;
  };
  const [ia, ib] = [index(a), index(b)];
  if (!Number.isNaN(ia) && !Number.isNaN(ib)) return ia - ib;
  const [na, nb] = [Number.parseFloat(a.replace(/^\D+/, '')), Number.parseFloat(b.replace(/^\D+/, ''))];
  const scale = (v: string, n: number) => (v.endsWith('m') && !v.includes('%') ? n * 60 : n);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return scale(a, na) - scale(b, nb);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A coarse bucket of the base level, where it matters (error ratios: their base ratio). */
function baseBucket(s: CaseSpec): string {
  if (s.kind === 'ratio-counted' || s.kind === 'ratio-uncounted') return s.base < 0.003 ? 'ratio<0.3%' : s.base < 0.01 ? 'ratio 0.3-1%' : 'ratio≥1%';
  if (s.kind === 'saturation') return s.base < 0.45 ? 'util<0.45' : 'util≥0.45';
  return 'any';
}

/** How one target fared: its rate, its cases, whether it is met, and where the misses concentrate. */
export interface TargetVerdict {
  inTime: number | null;
  cases: number;
  target: number;
  met: boolean;
  /** Per dimension, its values by in-time rate, worst first: [value, inTime, cases]. */
  byDimension: Record<string, Array<[string, number, number]>>;
  /** Misses by cause: never alerted within the observed hour, alerted late, or an earlier alert still open at the onset (and none opened after it in time). */
  misses: { never: number; late: number; openAtOnset: number };
  /** The (kind × noise × interval) cells with the most misses. */
  worstCells: Array<{ cell: string; misses: number; cases: number }>;
  /** The (kind × shape × history) cells with the most misses. */
  worstShapeHistory: Array<{ cell: string; misses: number; cases: number }>;
}

/** The cells of `results` by `key` with the most misses (ties: the higher miss rate first). */
function worst(results: CaseResult[], key: (s: CaseSpec) => string): Array<{ cell: string; misses: number; cases: number }> {
  return [...groupBy(results, (r) => key(r.spec))]
    .map(([cell, rs]) => ({ cell, misses: rs.filter((r) => !inTime(r)).length, cases: rs.length }))
    .filter((c) => c.misses > 0)
    .sort((a, b) => b.misses - a.misses || b.misses / b.cases - a.misses / a.cases)
    .slice(0, 8);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function verdictOf(results: CaseResult[], target: number): TargetVerdict {
  const hits = results.filter(inTime).length;
  const rate = results.length ? hits / results.length : null;
  const byDimension: TargetVerdict['byDimension'] = {};
  for (const [name, value] of Object.entries(DIMENSIONS)) {
    if (name === 'rollout') continue;
    const groups = [...groupBy(results, (r) => value(r.spec))].map(([v, rs]) => [v, round(rs.filter(inTime).length / rs.length)!, rs.length] as [string, number, number]);
    if (groups.length > 1) byDimension[name] = groups.sort((a, b) => a[1] - b[1]);
  }
  const missed = results.filter((r) => !inTime(r));
  const misses = {
    never: missed.filter((r) => !r.detection?.detected && !r.detection?.openAtOnset).length,
    late: missed.filter((r) => r.detection?.detected && !r.detection.openAtOnset).length,
    openAtOnset: missed.filter((r) => r.detection?.openAtOnset).length,
  };
  return {
    inTime: round(rate),
    cases: results.length,
    target,
    met: rate !== null && rate >= target,
    byDimension,
    misses,
    worstCells: worst(results, (s) => `${s.kind} noise ${noiseLabel(s.noise)} ${intervalLabel(s.intervalMs)}`),
    worstShapeHistory: worst(results, (s) => `${s.kind}/${s.shape!.name} ${s.history}`),
  };
}

/** Everything the benchmark reports, as the final JSON line carries it (plus the per-dimension tables). */
export interface Summary {
  step2x: TargetVerdict;
  step1_5x: TargetVerdict;
  falseAlarmsPer100SeriesDays: {
    max: number | null;
    target: number;
    met: boolean;
    byCell: Record<string, number | null>;
    upper95ByCell: Record<string, number | null>;
    seriesDaysByCell: Record<string, number>;
    alarmsByCell: Record<string, number>;
  };
  /** False alarms by the value of each dimension. */
  falseAlarmsBy: Record<string, Record<string, AlarmStats>>;
  /** Good rollouts (v2 identical to v1): how many ran, and how many raised an alarm while rolling out or within the hour after. */
  goodRollouts: { series: number; alarmed: number; alarms: number };
  rows: Record<string, RowStats>;
  cases: number;
  quietSeries: number;
}

/** Aggregates results into rows, false-alarm cells and target verdicts. */
export function summarize(results: CaseResult[]): Summary {
  const changes = results.filter((r) => r.spec.shape);
  const rows: Record<string, RowStats> = {};
  const byRow = groupBy(changes, (r) => `${r.spec.kind}/${r.spec.shape!.name}`);
  for (const { kind, shape } of allRows()) {
    const key = `${kind}/${shape.name}`;
    const rs = byRow.get(key);
    if (rs) rows[key] = rowStats(rs);
  }
  const cellKey = (s: CaseSpec) => `${intervalLabel(s.intervalMs)}/${s.noiseModel}`;
  const byCell: Record<string, number | null> = {};
  const upper95ByCell: Record<string, number | null> = {};
  const seriesDaysByCell: Record<string, number> = {};
  const alarmsByCell: Record<string, number> = {};
  const cells = [...groupBy(results, (r) => cellKey(r.spec))].sort(([a], [b]) => cellOrder(a) - cellOrder(b));
  for (const [key, rs] of cells) {
    const fa = alarmStats(rs);
    byCell[key] = fa.per100;
    upper95ByCell[key] = fa.per100Upper95;
    seriesDaysByCell[key] = fa.seriesDays;
    alarmsByCell[key] = fa.alarms;
  }
  const rates = Object.values(byCell).filter((x): x is number => x !== null);
  const max = rates.length ? Math.max(...rates) : null;
  const falseAlarmsBy: Summary['falseAlarmsBy'] = {};
  for (const [name, value] of Object.entries(DIMENSIONS)) {
    if (name === 'shape') continue;
    falseAlarmsBy[name] = Object.fromEntries([...groupBy(results, (r) => value(r.spec))].sort(([a], [b]) => valueOrder(a, b)).map(([v, rs]) => [v, alarmStats(rs)]));
  }
  return {
    step2x: verdictOf(changes.filter((r) => targetOf(r.spec) === 'step2x'), TARGETS.step2x.rate),
    step1_5x: verdictOf(changes.filter((r) => targetOf(r.spec) === 'step1_5x'), TARGETS.step1_5x.rate),
    falseAlarmsPer100SeriesDays: { max, target: TARGETS.falseAlarms.per100SeriesDays, met: max !== null && max <= TARGETS.falseAlarms.per100SeriesDays, byCell, upper95ByCell, seriesDaysByCell, alarmsByCell },
    falseAlarmsBy,
    goodRollouts: goodRollouts(results),
    rows,
    cases: changes.length,
    quietSeries: results.length - changes.length,
  };
}

function goodRollouts(results: CaseResult[]): Summary['goodRollouts'] {
  const rolled = results.filter((r) => r.falseAlarms.rolloutAlarms !== null);
  return {
    series: rolled.length,
    alarmed: rolled.filter((r) => r.falseAlarms.rolloutAlarms! > 0).length,
    alarms: rolled.reduce((sum, r) => sum + r.falseAlarms.rolloutAlarms!, 0),
  };
}

/** Orders "10s/gaussian" cells by interval, then model. */
function cellOrder(key: string): number {
  const [interval, model] = key.split('/');
  const seconds = interval!.endsWith('m') ? 60 * Number(interval!.slice(0, -1)) : Number(interval!.slice(0, -1));
  return seconds * 10 + (model === 'heavy' ? 1 : 0);
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null, digits = 1) => (x === null ? '—' : x.toFixed(digits));

/** The report as lines of text: the row table, the false-alarm tables and the target verdicts. */
export function formatReport(summary: Summary): string[] {
  const out: string[] = [];
  out.push(
    'Detection per (metric kind × change shape), over noise 1–30 % (Gaussian and heavy-tailed), sampling 10 s–5 min (regular and ±40 % jitter),',
    'histories 30 points–14 days (14 d only at 60 s and 5 min, 3 d from 30 s, at most 1 d at 10 s) and seasonality none/daily/daily+weekly.',
    'Delays run from the onset (a ramp\'s start, a bad rollout\'s first v2 point) to the record whose ingestion opened the alert, over detected cases;',
    'points count the series\' points from the onset, the onset point being 1. FA = false alarms of the rows\' no-change twins per 100 series-days.',
    '',
  );
  const header = ['row', 'cases', 'detected', 'in time', 'budget', 'med pts', 'p90 pts', 'med min', 'p90 min', 'FA/100d'];
  const widths = [40, 6, 9, 8, 16, 8, 8, 8, 8, 8];
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
  out.push(line(header));
  for (const [key, r] of Object.entries(summary.rows)) {
    out.push(
      line([key, String(r.cases), pct(r.detected), pct(r.inTime), budgetText(key), num(r.medianDelayPoints, 0), num(r.p90DelayPoints, 0), num(r.medianDelayMinutes), num(r.p90DelayMinutes), num(r.falseAlarmsPer100SeriesDays, 2)]),
    );
  }
  out.push('', `False alarms on no-change series (twins after their first 30 points, and ${summary.quietSeries} quiet series incl. good rollouts), per (sampling interval × noise model):`);
  const fa = summary.falseAlarmsPer100SeriesDays;
  const faLine = (label: string, alarms: number, days: number, per100: number | null, upper: number | null) =>
    `${label.padEnd(16)} ${String(alarms).padStart(7)} ${days.toFixed(1).padStart(12)} ${num(per100, 2).padStart(10)} ${num(upper, 2).padStart(12)}`;
  const faHeader = `${''.padEnd(16)} ${'alarms'.padStart(7)} ${'series-days'.padStart(12)} ${'per 100 d'.padStart(10)} ${'95% upper'.padStart(12)}`;
  out.push(faHeader);
  for (const key of Object.keys(fa.byCell)) out.push(faLine(key, fa.alarmsByCell[key]!, fa.seriesDaysByCell[key]!, fa.byCell[key]!, fa.upper95ByCell[key]!));
  for (const dimension of ['kind', 'noise', 'model', 'interval', 'sampling', 'history', 'seasonality', 'rollout', 'companion', 'base']) {
    const groups = summary.falseAlarmsBy[dimension];
    if (!groups) continue;
    out.push('', `False alarms by ${dimension}:`);
    for (const [value, s] of Object.entries(groups)) out.push(faLine(value, s.alarms, s.seriesDays, s.per100, s.per100Upper95));
  }
  const gr = summary.goodRollouts;
  out.push('', `Good rollouts (v2 identical to v1, 10 % → 50 % → 100 %): ${gr.alarmed} of ${gr.series} alarmed while rolling out or within the hour after (${gr.alarms} alarms).`);
  out.push('', 'Targets:');
  for (const name of ['step2x', 'step1_5x'] as const) {
    const v = summary[name];
    out.push(`- ${name}: ${v.met ? 'MET' : 'NOT MET'}: ${pct(v.inTime)} in time over ${v.cases} cases (target ${pct(v.target)}); ${TARGETS[name].text}`);
    if (v.met || !v.cases) continue;
    for (const [dimension, values] of Object.entries(v.byDimension)) {
      out.push(`    by ${dimension}: ${values.slice(0, 4).map(([value, rate, n]) => `${value} ${pct(rate)} (${n})`).join(', ')}`);
    }
    out.push(`    misses: ${v.misses.never} never alerted (within the hour observed), ${v.misses.late} alerted late, ${v.misses.openAtOnset} with an earlier alert still open at the onset`);
    out.push(`    worst kind × noise × interval: ${v.worstCells.map((c) => `${c.cell}: ${c.misses}/${c.cases} missed`).join('; ')}`);
    out.push(`    worst kind × shape × history: ${v.worstShapeHistory.map((c) => `${c.cell}: ${c.misses}/${c.cases} missed`).join('; ')}`);
  }
  const failing = Object.entries(fa.byCell).filter(([, x]) => x !== null && x > fa.target);
  const worstCell = Object.entries(fa.byCell).sort(([, a], [, b]) => (b ?? -1) - (a ?? -1))[0];
  out.push(
    `- false alarms: ${fa.met ? 'MET' : 'NOT MET'}: max ${num(fa.max, 2)} per 100 series-days${worstCell ? ` (${worstCell[0]}, 95% upper ${num(fa.upper95ByCell[worstCell[0]]!, 2)})` : ''}, target ≤ ${fa.target}; ${TARGETS.falseAlarms.text}`,
  );
  if (failing.length) {
    out.push(`    failing cells: ${failing.map(([k, x]) => `${k} ${x!.toFixed(3)} (95% upper ${num(fa.upper95ByCell[k]!, 2)})`).join(', ')}`);
    for (const dimension of ['kind', 'noise', 'history', 'seasonality']) {
      const worst = Object.entries(summary.falseAlarmsBy[dimension] ?? {})
        .filter(([, s]) => s.per100 !== null)
        .sort(([, a], [, b]) => b.per100! - a.per100!)
        .slice(0, 3);
      out.push(`    most by ${dimension}: ${worst.map(([value, s]) => `${value} ${s.per100!.toFixed(2)}`).join(', ')}`);
    }
  }
  return out;
}

/** The final JSON line's object: the verdicts, the false-alarm cells and every row (per-dimension tables left out). */
export function jsonSummary(summary: Summary, extra: Record<string, unknown>): { sensitivity: Record<string, unknown> } {
  const verdict = (v: TargetVerdict) => ({ inTime: v.inTime, cases: v.cases, target: v.target, met: v.met, misses: v.misses, worstCells: v.worstCells.slice(0, 5) });
  const fa = summary.falseAlarmsPer100SeriesDays;
  return {
    sensitivity: {
      step2x: verdict(summary.step2x),
      step1_5x: verdict(summary.step1_5x),
      falseAlarmsPer100SeriesDays: {
        max: fa.max,
        target: fa.target,
        met: fa.met,
        byCell: fa.byCell,
        upper95ByCell: fa.upper95ByCell,
        seriesDaysByCell: fa.seriesDaysByCell,
        byKind: Object.fromEntries(Object.entries(summary.falseAlarmsBy.kind ?? {}).map(([k, s]) => [k, s.per100])),
      },
      goodRollouts: summary.goodRollouts,
      rows: summary.rows,
      cases: summary.cases,
      quietSeries: summary.quietSeries,
      ...extra,
    },
  };
}
