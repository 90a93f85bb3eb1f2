/**
 * `npm run bench:sensitivity -- [--seeds N] [--per-row M] [--fa-days D] [--quick] [--only REGEX] [--write-floors [FILE]]`:
 * the product's sensitivity contract, measured. It generates synthetic telemetry over a grid (metric kinds ×
 * change shapes, with noise, sampling, history, seasonality and rollouts drawn per case from seeded streams),
 * runs every series through the real pipeline (`createPipeline(DEFAULT_PIPELINE_OPTIONS)`), and prints
 * detection per (kind × shape) row, false alarms per (sampling interval × noise model) cell and per
 * dimension, the targets' verdicts with the cells that lose most, and ends with one JSON line
 * `{"sensitivity":{"step2x":…,"step1_5x":…,"falseAlarmsPer100SeriesDays":…,"rows":…}}`.
 *
 * `--seeds N` runs seeds 1..N (default 60), each with `--per-row` cases per row (default 1); the no-change
 * grid is topped up with quiet series to `--fa-days` series-days per cell (default 400). `--quick` is the
 * small configuration the regression test runs (`QUICK_CONFIG`); `--write-floors` writes that test's floors
 * (default test/bench/sensitivity-floors.json) from this run. Progress goes to stderr.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { floorsFrom, QUICK_CONFIG, type FloorsConfig } from './sensitivity/floors.ts';
import { formatReport, jsonSummary, summarize } from './sensitivity/report.ts';
import { runGrid } from './sensitivity/run.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string' },
    'per-row': { type: 'string' },
    'fa-days': { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'write-floors': { type: 'string' },
  },
  // `--write-floors` alone (no file) is allowed: parseArgs needs a value, so it is normalized below.
  args: process.argv.slice(2).flatMap((a, i, all) => (a === '--write-floors' && (i === all.length - 1 || all[i + 1]!.startsWith('--')) ? [a, ''] : [a])),
});

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${text}"`);
  return n;
}

const config: FloorsConfig = args.quick
  ? { ...QUICK_CONFIG, seeds: [...QUICK_CONFIG.seeds] }
  : {
      seeds: Array.from({ length: positiveInt('seeds', args.seeds, 60) }, (_, i) => i + 1),
      perRow: positiveInt('per-row', args['per-row'], 1),
      faDays: positiveInt('fa-days', args['fa-days'], 400),
    };
if (args.quick && (args.seeds || args['per-row'] || args['fa-days'])) throw new Error('--quick fixes --seeds, --per-row and --fa-days; drop them or drop --quick');
const only = args.only ? new RegExp(args.only) : undefined;
if (args['write-floors'] !== undefined && only) throw new Error('--write-floors needs every row: drop --only');

const started = performance.now();
let lastProgress = started;
const results = runGrid({
  ...config,
  only,
  onProgress: (done, total, phase) => {
    const now = performance.now();
    if (now - lastProgress < 5_000) return;
    lastProgress = now;
    process.stderr.write(`${phase === 'changes' ? `${done}/${total} change cases` : `${done - total} quiet series`} after ${((now - started) / 1000).toFixed(0)} s\n`);
  },
});
const seconds = (performance.now() - started) / 1000;
const summary = summarize(results);

console.log(
  `sensitivity: seeds ${config.seeds.length === 1 ? config.seeds[0] : `${config.seeds[0]}..${config.seeds.at(-1)}`}, ${config.perRow} case(s) per row per seed, ${summary.cases} change cases (each with its no-change twin) and ${summary.quietSeries} quiet series in ${seconds.toFixed(1)} s`,
);
console.log('');
for (const line of formatReport(summary)) console.log(line);

if (args['write-floors'] !== undefined) {
  const file = path.resolve(repoRoot, args['write-floors'] || 'test/bench/sensitivity-floors.json');
  writeFileSync(file, `${JSON.stringify(floorsFrom(summary, config), null, 2)}\n`);
  console.log(`\nfloors written to ${path.relative(repoRoot, file)}${args.quick ? '' : ' (not the quick configuration: the test will refuse them)'}`);
}

console.log(JSON.stringify(jsonSummary(summary, { seeds: config.seeds.length, perRow: config.perRow, faDays: config.faDays, seconds: Number(seconds.toFixed(1)) })));
