/**
 * Regression floors for the sensitivity benchmark: per row the lowest acceptable in-time rate and the
 * highest acceptable false-alarm rate of its twins, and per false-alarm cell its highest rate, written from
 * a run (`--write-floors`) and checked by test/bench/sensitivity.test.ts on the same (quick) configuration.
 */
import type { Summary } from './report.ts';

/** The grid configuration floors were written for: a check is only meaningful on the same one. */
export interface FloorsConfig {
  seeds: number[];
  perRow: number;
  faDays: number;
}

/** Floors per row and per false-alarm cell. */
export interface Floors {
  config: FloorsConfig;
  note: string;
  rows: Record<string, { minInTime: number; maxFalseAlarmsPer100SeriesDays: number | null }>;
  falseAlarmCells: Record<string, { maxPer100SeriesDays: number }>;
}

/** The configuration the test runs and floors are written for: five seeds, one case per row each, 10 series-days per cell. */
export const QUICK_CONFIG: Readonly<FloorsConfig> = Object.freeze({ seeds: [1, 2, 3, 4, 5], perRow: 1, faDays: 10 });

const floorTo = (x: number, digits = 3) => Math.floor(x * 10 ** digits) / 10 ** digits;
const ceilTo = (x: number, digits = 3) => Math.ceil(x * 10 ** digits) / 10 ** digits;

/**
 * Floors from a run's summary with a margin: a row may lose one case (or 5 points of rate, whichever is
 * more) of in-time detections, and its twins or a cell may raise one false alarm more than measured.
 */
export function floorsFrom(summary: Summary, config: FloorsConfig): Floors {
  const rows: Floors['rows'] = {};
  for (const [key, r] of Object.entries(summary.rows)) {
    const slack = Math.max(0.05, 1 / Math.max(1, r.cases));
    rows[key] = {
      minInTime: Math.max(0, floorTo(r.inTime - slack - 1e-9)),
      maxFalseAlarmsPer100SeriesDays: r.seriesDays > 0 ? ceilTo((100 * (r.falseAlarms + 1)) / r.seriesDays, 2) : null,
    };
  }
  const fa = summary.falseAlarmsPer100SeriesDays;
  const falseAlarmCells: Floors['falseAlarmCells'] = {};
  for (const [key, days] of Object.entries(fa.seriesDaysByCell)) {
    if (days > 0) falseAlarmCells[key] = { maxPer100SeriesDays: ceilTo((100 * ((fa.alarmsByCell[key] ?? 0) + 1)) / days, 2) };
  }
  return {
    config: { ...config, seeds: [...config.seeds] },
    note: 'Written by `npm run bench:sensitivity -- --quick --write-floors` from the detector of the day, with a margin of one case per row and one false alarm per row or cell; rewrite when the detector improves.',
    rows,
    falseAlarmCells,
  };
}

/** Every way `summary` falls short of `floors`, as sentences; empty when none. */
export function floorViolations(summary: Summary, floors: Floors): string[] {
  const problems: string[] = [];
  for (const [key, floor] of Object.entries(floors.rows)) {
    const row = summary.rows[key];
    if (!row) {
      problems.push(`${key}: row missing from the run`);
      continue;
    }
    if (row.inTime < floor.minInTime) problems.push(`${key}: in time ${row.inTime} < floor ${floor.minInTime}`);
    const fa = row.falseAlarmsPer100SeriesDays;
    if (floor.maxFalseAlarmsPer100SeriesDays !== null && fa !== null && fa > floor.maxFalseAlarmsPer100SeriesDays) {
      problems.push(`${key}: twins' false alarms ${fa} per 100 series-days > ceiling ${floor.maxFalseAlarmsPer100SeriesDays}`);
    }
  }
  const byCell = summary.falseAlarmsPer100SeriesDays.byCell;
  for (const [key, floor] of Object.entries(floors.falseAlarmCells)) {
    const rate = byCell[key];
    if (rate !== null && rate !== undefined && rate > floor.maxPer100SeriesDays) problems.push(`false alarms ${key}: ${rate} per 100 series-days > ceiling ${floor.maxPer100SeriesDays}`);
  }
  return problems;
}
