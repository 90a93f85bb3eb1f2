/**
 * `npm run bench:nab -- [--data DIR] [--out DIR] [--method NAME] [--neighbours] [--no-loco]`: scores the
 * default detector (or a registered method) on a NAB-layout corpus, prints our three profile scores beside the
 * scoreboard and the standard profile's windows and false positives per category, then the leave-one-category-
 * out table, and ends with one JSON line
 * `{"nab":{"standard":…,"reward_low_FP_rate":…,"reward_low_FN_rate":…,"loco":{"standard":…,"defaultConfig":…}}}`.
 *
 * With `--neighbours` it also scores each configuration of `bench/nab/candidates.ts` (the default detector
 * and the default ensemble with each of its main options moved to a neighbouring value) and adds the standard
 * score's mean over them to the JSON line as `standardNeighbourMean`: a change that only helps one
 * configuration is fitting noise, not a plateau.
 *
 * LOCO, leave one category out (`bench/nab/loco.ts`; skipped with `--no-loco`): for each category, the
 * configuration among those candidates and the threshold are chosen on the other categories, and the held-out
 * category is scored with them unchanged. The pooled held-out standard score is `loco.standard`; the same with
 * the default configuration alone (only its threshold fitted elsewhere) is `loco.defaultConfig`, which isolates
 * threshold transfer from the choice of configuration. The other two profiles are printed, not in the JSON.
 * With `--method` the method is the only candidate (both figures are then the same).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDefaultDetector, registry } from '../detectors/index.ts';
import type { Detector } from '../detectors/types.ts';
import { readCorpus, readProfiles } from './nab/corpus.ts';
import { breakdownByCategory } from './nab/breakdown.ts';
import { CANDIDATES, type CandidateFactory } from './nab/candidates.ts';
import { candidate, leaveOneCategoryOut, type Candidate, type LocoResult } from './nab/loco.ts';
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
    // LOCO runs by default (about 20 s more on NAB with 13 candidates); `--loco` is accepted for symmetry.
    loco: { type: 'boolean', default: true },
    'no-loco': { type: 'boolean', default: false },
  },
});

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

/** Outputs of each candidate over the corpus, computed once: the default's are the main run's. */
const candidateRuns = new Map<string, Float64Array[]>();
const candidates: CandidateFactory[] = args.method ? [[args.method, detectorFactory()]] : CANDIDATES;
function runCandidate([name, create]: CandidateFactory): Float64Array[] {
  let run = candidateRuns.get(name);
  if (!run) {
    run = (args.method ? name === args.method : name === 'defaults') ? scores : runCorpus(files, create);
    candidateRuns.set(name, run);
  }
  return run;
}

if (args.neighbours) {
  console.log('standard profile of the default detector and its neighbours:');
  const neighbourScores = CANDIDATES.map((entry) => {
    const standardScore = scoreCorpus(files, runCandidate(entry), profiles.standard!).normalized;
    console.log(`  ${entry[0].padEnd(28)} ${standardScore.toFixed(2).padStart(6)}`);
    return standardScore;
  });
  const mean = neighbourScores.reduce((sum, x) => sum + x, 0) / neighbourScores.length;
  console.log(`  ${'mean'.padEnd(28)} ${mean.toFixed(2).padStart(6)}  (min ${Math.min(...neighbourScores).toFixed(2)}, max ${Math.max(...neighbourScores).toFixed(2)})`);
  line.standardNeighbourMean = round(mean);
}

let loco: Record<string, number> | undefined;
if (args.loco && !args['no-loco']) {
  const locoStarted = performance.now();
  const outputs = candidates.map(runCandidate);
  const runSeconds = (performance.now() - locoStarted) / 1000;
  const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : Number.isNaN(x) ? 'n/a' : String(x));
  const threshold = (x: number) => (Number.isFinite(x) ? x.toPrecision(7) : 'none');
  const printTable = (result: LocoResult, defaults: LocoResult) => {
    console.log(
      `  ${'held-out category'.padEnd(24)} ${'chosen on the others'.padEnd(26)} ${'threshold'.padStart(10)} ${'fit'.padStart(6)} ${'held-out'.padStart(8)} ${'windows'.padStart(7)} ${'FP'.padStart(4)}` +
        `  | default: ${'threshold'.padStart(10)} ${'held-out'.padStart(8)} ${'windows'.padStart(7)} ${'FP'.padStart(4)}`,
    );
    result.categories.forEach((c, i) => {
      const d = defaults.categories[i]!;
      console.log(
        `  ${c.category.padEnd(24)} ${c.chosen.padEnd(26)} ${threshold(c.threshold).padStart(10)} ${fmt(c.fitted).padStart(6)} ${fmt(c.normalized).padStart(8)} ${`${c.detected}/${c.windows}`.padStart(7)} ${String(c.falsePositiveRows).padStart(4)}` +
          `  |          ${threshold(d.threshold).padStart(10)} ${fmt(d.normalized).padStart(8)} ${`${d.detected}/${d.windows}`.padStart(7)} ${String(d.falsePositiveRows).padStart(4)}`,
      );
    });
  };
  const defaultLabel = args.method ?? 'defaults';
  const runs: Candidate[] = candidates.map(([name], i) => candidate(files, name, outputs[i]!));
  const defaultRun = runs.find((r) => r.label === defaultLabel)!;
  console.log(`leave-one-category-out over ${runs.length} configuration(s): configuration and threshold chosen on the other categories, held-out category scored unchanged`);
  const summary: Record<string, { all: LocoResult; defaults: LocoResult }> = {};
  for (const profile of PROFILES) {
    const all = leaveOneCategoryOut(files, runs, profiles[profile]!);
    const defaults = leaveOneCategoryOut(files, [defaultRun], profiles[profile]!);
    summary[profile] = { all, defaults };
    if (profile === 'standard') {
      console.log('standard profile (fit: the chosen configuration on the other categories at its threshold; held-out: the held-out windows at that threshold, n/a without windows):');
      printTable(all, defaults);
    }
    console.log(
      `  ${profile.padEnd(20)} LOCO ${fmt(all.normalized, 2).padStart(6)} (configuration and threshold fitted elsewhere), ` +
        `${fmt(defaults.normalized, 2).padStart(6)} (${defaultLabel}, threshold fitted elsewhere), full corpus ${fmt(ours[profile].normalized, 2).padStart(6)}`,
    );
  }
  console.log(`  (candidate runs ${runSeconds.toFixed(1)} s, LOCO scoring ${((performance.now() - locoStarted) / 1000 - runSeconds).toFixed(1)} s)`);
  loco = { standard: round(summary.standard!.all.normalized), defaultConfig: round(summary.standard!.defaults.normalized) };
}
console.log(JSON.stringify({ nab: loco ? { ...line, loco } : line }));
