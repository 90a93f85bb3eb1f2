/**
 * The NAB v1.1 scorer: sweep values per row, one corpus-wide threshold per cost profile, normalization.
 *
 * It follows `../shared/nab/SCORING.md` step by step; `test/bench/nab-scorer.test.ts` proves it reproduces
 * the published scoreboard figures from the published detector outputs.
 */
import type { CorpusFile, CostProfile } from './corpus.ts';

/** The result of scoring a corpus under one cost profile. */
export interface ProfileScore {
  /** Normalized score: 0 for a detector that never fires, 100 for a perfect one. */
  normalized: number;
  /** Raw score at the optimized threshold. */
  raw: number;
  /** The optimized threshold (scores ≥ it are detections); `Infinity` when firing nowhere is best. */
  threshold: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/** Rows at the start of a file that are not scored: 15 % of the rows, at most 750. */
export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

/** NAB's scaled sigmoid: 1 at p = -1 (well, 0.987), 0 at p = 0, towards -1 as p grows, exactly -1 past 3. */
export function scaledSigmoid(p: number): number {
  if (p > 3) return -1;
  return 2 / (1 + Math.exp(5 * p)) - 1;
}

/** Scored rows of one file after the probationary period: their sweep values and window of each. */
interface ScoredRows {
  sweep: Float64Array;
  /** Index of the row's window within the file, or -1 outside every window. */
  window: Int32Array;
  /** First row kept (the probationary length). */
  first: number;
}

/** Computes the sweep value of every row of `file` under `profile`, and which window each row lies in. */
function sweepValues(file: CorpusFile, profile: CostProfile): ScoredRows {
  const rows = file.timestamps.length;
  const first = probationaryLength(rows);
  const sweep = new Float64Array(rows - first);
  const window = new Int32Array(rows - first).fill(-1);
  // Row ranges [start, end] of each window, from its inclusive timestamp limits.
  const ranges = file.windows.map(([from, to]) => {
    let start = -1;
    let end = -1;
    for (let i = 0; i < rows; i++) {
      const t = file.timestamps[i]!;
      if (t >= from && t <= to) {
        if (start < 0) start = i;
        end = i;
      }
    }
    return { start, end };
  });
  const maxTp = scaledSigmoid(-1);
  let current = 0;
  let previous: { start: number; end: number } | undefined;
  for (let i = 0; i < rows; i++) {
    while (current < ranges.length && ranges[current]!.end < i) {
      if (ranges[current]!.start >= 0) previous = ranges[current];
      current++;
    }
    const range = ranges[current];
    let value: number;
    let inWindow = -1;
    if (range && range.start >= 0 && i >= range.start) {
      const width = range.end - range.start + 1;
      value = (profile.tp * scaledSigmoid(-(range.end - i + 1) / width)) / maxTp;
      inWindow = current;
    } else if (previous) {
      const width = previous.end - previous.start + 1;
      value = profile.fp * scaledSigmoid(Math.abs(previous.end - i) / (width - 1));
    } else {
      value = -profile.fp;
    }
    if (i >= first) {
      sweep[i - first] = value;
      window[i - first] = inWindow;
    }
  }
  return { sweep, window, first };
}

/**
 * Every scored row of a corpus (after the probationary periods), pooled and sorted by anomaly score, highest
 * first, with the file and window each row belongs to. Nothing here depends on the cost profile, so a
 * detector's outputs are ranked once and then pooled under each profile (`poolRows`).
 */
export interface RankedRows {
  /** Number of corpus files. */
  files: number;
  /** Anomaly score of each row, highest first (non-finite scores count as 0). */
  anomaly: Float64Array;
  /** Index into `files` of the row's file. */
  fileOf: Int32Array;
  /** Index of the row within its file. */
  row: Int32Array;
  /** Corpus-wide index of the row's window, or -1 outside every window. */
  windowId: Int32Array;
  /** Index into `files` of each corpus-wide window. */
  windowFile: Int32Array;
}

/** Ranked rows with their sweep values under one profile: what a threshold is swept over. */
export interface PooledRows extends RankedRows {
  profile: CostProfile;
  /** Sweep value of each row (same order as `anomaly`). */
  sweep: Float64Array;
}

/** Which files of the corpus count, by index into `files`; every file when omitted. */
export type FileFilter = (file: number) => boolean;

/** The window assignment does not depend on the weights; any profile gives it. */
const UNIT_PROFILE: CostProfile = { tp: 1, fp: 1, fn: 1 };

/** Ranks the scored rows of `files` by their scores (`scores[f][row]` for every row of `files[f]`). */
export function rankRows(files: CorpusFile[], scores: ArrayLike<number>[]): RankedRows {
  if (files.length !== scores.length) throw new Error('one score column per corpus file is required');
  let total = 0;
  let windowCount = 0;
  const perFile = files.map((file, f) => {
    if (scores[f]!.length !== file.timestamps.length) {
      throw new Error(`${file.name}: ${scores[f]!.length} scores for ${file.timestamps.length} rows`);
    }
    const rows = sweepValues(file, UNIT_PROFILE);
    const windowBase = windowCount;
    windowCount += file.windows.length;
    total += rows.sweep.length;
    return { rows, windowBase };
  });

  // Pool in file order, then permute into score order.
  const pooledScore = new Float64Array(total);
  const pooledFile = new Int32Array(total);
  const pooledRow = new Int32Array(total);
  const pooledWindow = new Int32Array(total);
  const windowFile = new Int32Array(windowCount);
  let n = 0;
  files.forEach((file, f) => {
    const { rows, windowBase } = perFile[f]!;
    windowFile.fill(f, windowBase, windowBase + file.windows.length);
    const column = scores[f]!;
    for (let r = 0; r < rows.sweep.length; r++) {
      const score = column[rows.first + r]!;
      pooledScore[n] = Number.isFinite(score) ? score : 0;
      pooledFile[n] = f;
      pooledRow[n] = rows.first + r;
      pooledWindow[n] = rows.window[r]! < 0 ? -1 : windowBase + rows.window[r]!;
      n++;
    }
  });
  const order = orderByScore(pooledScore);
  const anomaly = new Float64Array(total);
  const fileOf = new Int32Array(total);
  const row = new Int32Array(total);
  const windowId = new Int32Array(total);
  for (let k = 0; k < total; k++) {
    const i = order[k]!;
    anomaly[k] = pooledScore[i]!;
    fileOf[k] = pooledFile[i]!;
    row[k] = pooledRow[i]!;
    windowId[k] = pooledWindow[i]!;
  }
  return { files: files.length, anomaly, fileOf, row, windowId, windowFile };
}

/** Adds the sweep values of `ranked` rows (ranked from outputs over `files`) under `profile`. */
export function poolRows(files: CorpusFile[], ranked: RankedRows, profile: CostProfile): PooledRows {
  if (files.length !== ranked.files) throw new Error('the rows were ranked over another corpus');
  const perFile = files.map((file) => sweepValues(file, profile));
  const sweep = new Float64Array(ranked.anomaly.length);
  for (let k = 0; k < sweep.length; k++) {
    const rows = perFile[ranked.fileOf[k]!]!;
    sweep[k] = rows.sweep[ranked.row[k]! - rows.first]!;
  }
  return { ...ranked, profile, sweep };
}

/**
 * Row indices by score, highest first (equal scores in row order): the distinct scores by a native sort,
 * then a counting sort of the rows by the rank of their score (faster than sorting indices with a comparator).
 */
export function orderByScore(anomaly: Float64Array): Uint32Array {
  const distinct = Float64Array.from(anomaly).sort().reverse();
  let d = 0;
  for (let i = 0; i < distinct.length; i++) if (d === 0 || distinct[i] !== distinct[d - 1]) distinct[d++] = distinct[i]!;
  const rank = new Uint32Array(anomaly.length);
  const start = new Uint32Array(d + 1);
  for (let i = 0; i < anomaly.length; i++) {
    // The rank of anomaly[i] among the distinct scores (highest first), by binary search.
    const x = anomaly[i]!;
    let lo = 0;
    let hi = d - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (distinct[mid]! > x) lo = mid + 1;
      else hi = mid;
    }
    rank[i] = lo;
    start[lo + 1]!++;
  }
  for (let r = 0; r < d; r++) start[r + 1]! += start[r]!;
  const order = new Uint32Array(anomaly.length);
  for (let i = 0; i < anomaly.length; i++) order[start[rank[i]!]!++] = i;
  return order;
}

/** `100 · (raw − null) / (perfect − null)` for `windows` windows; 0 for a corpus without windows. */
export function normalize(raw: number, windows: number, profile: CostProfile): number {
  const perfect = profile.tp * windows;
  const none = -profile.fn * windows;
  return windows === 0 ? 0 : (100 * (raw - none)) / (perfect - none);
}

/** One flag per file: 1 where `include` keeps it (every file without a filter). */
function fileMask(pooled: PooledRows, include?: FileFilter): Uint8Array {
  const mask = new Uint8Array(pooled.files);
  for (let f = 0; f < mask.length; f++) mask[f] = !include || include(f) ? 1 : 0;
  return mask;
}

/**
 * Adds the rows of the files `mask` keeps as detections, highest anomaly score first, down to `floor`
 * (inclusive). With `sweep`, returns the best raw score met after each group of equal scores and its
 * threshold (NAB's optimization; nothing detected when nothing beats that); else the raw score at `floor`.
 */
function walk(pooled: PooledRows, mask: Uint8Array, floor: number, optimize: boolean): ProfileScore {
  const { anomaly, sweep, windowId, fileOf, windowFile, profile } = pooled;
  let windows = 0;
  for (let w = 0; w < windowFile.length; w++) windows += mask[windowFile[w]!]!;
  const best = new Float64Array(windowFile.length).fill(NaN);
  let raw = -profile.fn * windows;
  let tp = 0;
  let fp = 0;
  let result: ProfileScore = { normalized: 0, raw, threshold: Infinity, truePositives: 0, falsePositives: 0, falseNegatives: windows };
  const total = anomaly.length;
  for (let k = 0; k < total; ) {
    const level = anomaly[k]!;
    if (level < floor) break;
    let kept = false;
    for (; k < total && anomaly[k] === level; k++) {
      if (mask[fileOf[k]!] === 0) continue;
      kept = true;
      const w = windowId[k]!;
      const value = sweep[k]!;
      if (w < 0) {
        raw += value;
        fp++;
      } else if (Number.isNaN(best[w]!)) {
        raw += profile.fn + value;
        best[w] = value;
        tp++;
      } else if (value > best[w]!) {
        raw += value - best[w]!;
        best[w] = value;
      }
    }
    if (optimize && kept && raw > result.raw) {
      result = { normalized: 0, raw, threshold: level, truePositives: tp, falsePositives: fp, falseNegatives: windows - tp };
    }
  }
  if (!optimize) result = { normalized: 0, raw, threshold: floor, truePositives: tp, falsePositives: fp, falseNegatives: windows - tp };
  result.normalized = normalize(result.raw, windows, profile);
  return result;
}

/**
 * NAB's threshold sweep over the files `include` keeps (every file without a filter): the threshold goes down
 * through every distinct anomaly score of their rows, starting above 1 where nothing is detected, and the
 * one with the largest raw score is kept (the highest of equally good ones).
 */
export function bestThreshold(pooled: PooledRows, include?: FileFilter): ProfileScore {
  return walk(pooled, fileMask(pooled, include), -Infinity, true);
}

/**
 * Scores the files `include` keeps (every file without a filter) at a fixed `threshold`: rows scoring at
 * or above it are detections, and nothing is optimized. `Infinity` detects nothing.
 */
export function scoreAtThreshold(pooled: PooledRows, threshold: number, include?: FileFilter): ProfileScore {
  return walk(pooled, fileMask(pooled, include), threshold, false);
}

/**
 * Scores detector outputs (`scores[f][row]` for every row of `files[f]`) under one profile,
 * optimizing one threshold for the whole corpus.
 */
export function scoreCorpus(files: CorpusFile[], scores: ArrayLike<number>[], profile: CostProfile): ProfileScore {
  return bestThreshold(poolRows(files, rankRows(files, scores), profile));
}
