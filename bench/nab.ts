/**
 * `npm run bench:nab -- [--data DIR] [--out DIR] [--method NAME] [--neighbours]`: scores the default detector
 * (or a registered method) on a NAB-layout corpus, prints our three profile scores beside the scoreboard and
 * the standard profile's windows and false positives per category, and ends with one JSON line
 * `{"nab":{"standard":…,"reward_low_FP_rate":…,"reward_low_FN_rate":…}}`. With `--neighbours` it also
 * scores the default ensemble with each of its main options moved to a neighbouring value
 * (`NEIGHBOURS`) and adds the standard score's mean over those configurations to the JSON line as
 * `standardNeighbourMean`: a change that only helps one configuration is fitting noise, not a plateau.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensemble, type EnsembleOptions } from '../detectors/ensemble.ts';
import { createDefaultDetector, registry } from '../detectors/index.ts';
import type { Detector } from '../detectors/types.ts';
import { readCorpus, readProfiles } from './nab/corpus.ts';
import { breakdownByCategory } from './nab/breakdown.ts';
import { runCorpus, writeResults } from './nab/run.ts';
import { scoreCorpus, type ProfileScore } from './nab/scorer.ts';

const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(repoRoot, '../shared/nab') },
    out: { type: 'string', default: path.join(os.tmpdir(), 'changewatch-nab') },
    method: { type: 'string' },
    neighbours: { type: 'boolean', default: false },
  },
});

/**
 * The default ensemble and twelve neighbours: each main option of `detectors/ensemble.ts` moved down and
 * up to a value an engineer could as well have chosen (docs/detectors.md reports means over this set).
 */
const NEIGHBOURS: Array<[string, Partial<EnsembleOptions>]> = [
  ['defaults', {}],
  ['warm-up 50', { warmup: 50 }],
  ['warm-up 200', { warmup: 200 }],
  ['cooldown 50', { cooldown: 50 }],
  ['cooldown 200', { cooldown: 200 }],
  ['fast level rate 0.1', { fast: { ...ensemble.defaults.fast, level: 0.1 } }],
  ['fast level rate 0.4', { fast: { ...ensemble.defaults.fast, level: 0.4 } }],
  ['slow level rate 0.01', { slow: { ...ensemble.defaults.slow, level: 0.01 } }],
  ['slow level rate 0.001', { slow: { ...ensemble.defaults.slow, level: 0.001 } }],
  ['CUSUM slack 0.75', { cusumSlack: 0.75 }],
  ['CUSUM slack 1.25', { cusumSlack: 1.25 }],
  ['calibration decay 0.0005', { tailDecay: 0.0005 }],
  ['calibration decay 0.0002', { tailDecay: 0.0002 }],
];
const dataDir = path.resolve(args.data!);
const outDir = path.resolve(args.out!);

function detectorFactory(): () => Detector {
  if (!args.method) return () => createDefaultDetector();
  const definition = registry.get(args.method);
  if (!definition) throw new Error(`unknown method "${args.method}"; known: ${[...registry.keys()].join(', ')}`);
  return () => definition.create();
}

const started = performance.now();
const files = readCorpus(dataDir);
const profiles = readProfiles(dataDir);
const scores = runCorpus(files, detectorFactory());
const rows = files.reduce((sum, file) => sum + file.values.length, 0);
const seconds = (performance.now() - started) / 1000;
writeResults(outDir, files, scores);

const ours = Object.fromEntries(PROFILES.map((name) => [name, scoreCorpus(files, scores, profiles[name]!)])) as Record<
  (typeof PROFILES)[number],
  ProfileScore
>;
const label = `changewatch ${args.method ?? 'default'} (this run)`;
const table: Array<[string, number, number, number]> = [[label, ...PROFILES.map((p) => ours[p].normalized)] as [string, number, number, number]];
const published = path.join(dataDir, 'results', 'final_results.json');
if (existsSync(published)) {
  const board = JSON.parse(readFileSync(published, 'utf8')) as Record<string, Record<string, number>>;
  for (const [name, figures] of Object.entries(board)) table.push([name, ...PROFILES.map((p) => figures[p] ?? NaN)] as [string, number, number, number]);
}
table.sort((a, b) => b[1] - a[1]);

console.log(`${files.length} files, ${rows} rows scored in ${seconds.toFixed(1)} s; results in ${outDir}`);
console.log(`${'detector'.padEnd(36)} ${PROFILES.map((p) => p.padStart(18)).join(' ')}`);
for (const [name, ...figures] of table) {
  console.log(`${name.padEnd(36)} ${figures.map((x) => x.toFixed(1).padStart(18)).join(' ')}`);
}
const standard = ours.standard;
console.log(
  `standard profile: threshold ${standard.threshold}, ${standard.truePositives} windows detected, ` +
    `${standard.falseNegatives} missed, ${standard.falsePositives} false-positive rows`,
);
for (const c of breakdownByCategory(files, scores, standard.threshold)) {
  console.log(`  ${c.category.padEnd(32)} ${`${c.detected}/${c.windows}`.padStart(7)} windows  ${String(c.falsePositiveRows).padStart(4)} false-positive rows  (${c.files} files)`);
}
const round = (x: number) => Math.round(x * 100) / 100;
const line: Record<string, number> = Object.fromEntries(PROFILES.map((p) => [p, round(ours[p].normalized)]));
if (args.neighbours) {
  console.log('standard profile of the default ensemble and its neighbours:');
  const neighbourScores = NEIGHBOURS.map(([name, options]) => {
    const standardScore = scoreCorpus(files, runCorpus(files, () => ensemble.create(options)), profiles.standard!).normalized;
    console.log(`  ${name.padEnd(28)} ${standardScore.toFixed(2).padStart(6)}`);
    return standardScore;
  });
  const mean = neighbourScores.reduce((sum, x) => sum + x, 0) / neighbourScores.length;
  console.log(`  ${'mean'.padEnd(28)} ${mean.toFixed(2).padStart(6)}  (min ${Math.min(...neighbourScores).toFixed(2)}, max ${Math.max(...neighbourScores).toFixed(2)})`);
  line.standardNeighbourMean = round(mean);
}
console.log(JSON.stringify({ nab: line }));
