/**
 * Reads a corpus laid out like NAB v1.1 (`data/`, `labels/combined_windows.json`, `config/profiles.json`).
 *
 * Nothing here is specific to the 58 NAB files: any folder in the same layout is a corpus.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';

/** One labelled series of the corpus, e.g. `realKnownCause/nyc_taxi.csv`. */
export interface CorpusFile {
  /** `<category>/<file>.csv`, the key used by the labels and results folders. */
  name: string;
  /** Event times in epoch milliseconds, oldest first. */
  timestamps: number[];
  values: number[];
  /** Anomaly windows as inclusive `[start, end]` epoch milliseconds. */
  windows: Array<[number, number]>;
}

/** Weights of one NAB cost profile. */
export interface CostProfile {
  tp: number;
  fp: number;
  fn: number;
}

/** Parses a NAB timestamp (`YYYY-MM-DD HH:MM:SS`, optionally with fractional seconds) as UTC milliseconds. */
export function parseNabTime(text: string): number {
  const ms = Date.parse(`${text.trim().replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) throw new Error(`unparseable NAB timestamp "${text}"`);
  return ms;
}

/** Lists `<category>/<file>.csv` names under `<root>/data`, sorted so every run visits files in the same order. */
export function listCorpusFiles(root: string): string[] {
  const dataDir = path.join(root, 'data');
  const names: string[] = [];
  for (const category of readdirSync(dataDir).sort()) {
    const dir = path.join(dataDir, category);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) if (file.endsWith('.csv')) names.push(`${category}/${file}`);
  }
  return names;
}

/** Reads the labelled windows of every file; a file missing from the labels has no windows. */
export function readWindows(root: string): Map<string, Array<[number, number]>> {
  const raw = JSON.parse(readFileSync(path.join(root, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, string[][]>;
  const windows = new Map<string, Array<[number, number]>>();
  for (const [name, list] of Object.entries(raw)) {
    windows.set(name, list.map(([start, end]) => [parseNabTime(start!), parseNabTime(end!)] as [number, number]));
  }
  return windows;
}

/** Reads the cost profiles from `<root>/config/profiles.json`. */
export function readProfiles(root: string): Record<string, CostProfile> {
  const file = path.join(root, 'config', 'profiles.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { CostMatrix: Record<string, number> }>;
  const profiles: Record<string, CostProfile> = {};
  for (const [name, { CostMatrix: m }] of Object.entries(raw)) {
    profiles[name] = { tp: m.tpWeight!, fp: m.fpWeight!, fn: m.fnWeight! };
  }
  return profiles;
}

/** Reads one data file (`timestamp,value` with a header). */
export function readDataFile(root: string, name: string, windows: Array<[number, number]> = []): CorpusFile {
  const lines = readFileSync(path.join(root, 'data', name), 'utf8').split('\n');
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const comma = line.indexOf(',');
    timestamps.push(parseNabTime(line.slice(0, comma)));
    values.push(Number(line.slice(comma + 1)));
  }
  return { name, timestamps, values, windows };
}

/** Reads every data file of the corpus with its windows. */
export function readCorpus(root: string): CorpusFile[] {
  if (!existsSync(path.join(root, 'data'))) throw new Error(`no NAB corpus at ${root} (expected ${root}/data)`);
  const windows = readWindows(root);
  return listCorpusFiles(root).map((name) => readDataFile(root, name, windows.get(name) ?? []));
}

/** Reads a column of anomaly scores (header `anomaly_score` or a CSV whose last column is it). */
export function readScoreFile(file: string): number[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = lines[0]!.trim().split(',');
  const column = header.indexOf('anomaly_score');
  if (column < 0) throw new Error(`${file}: no anomaly_score column`);
  const scores: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line !== '') scores.push(Number(line.split(',')[column]));
  }
  return scores;
}
