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
 * Scores detector outputs (`scores[f][row]` for every row of `files[f]`) under one profile,
 * optimizing one threshold for the whole corpus.
 */
export function scoreCorpus(files: CorpusFile[], scores: ArrayLike<number>[], profile: CostProfile): ProfileScore {
  if (files.length !== scores.length) throw new Error('one score column per corpus file is required');
  let total = 0;
  let windowCount = 0;
  const perFile = files.map((file, f) => {
    if (scores[f]!.length !== file.timestamps.length) {
      throw new Error(`${file.name}: ${scores[f]!.length} scores for ${file.timestamps.length} rows`);
    }
    const rows = sweepValues(file, profile);
    const windowBase = windowCount;
    windowCount += file.windows.length;
    total += rows.sweep.length;
    return { rows, windowBase };
  });

  // Pool every scored row of the corpus.
  const anomaly = new Float64Array(total);
  const sweep = new Float64Array(total);
  const windowId = new Int32Array(total);
  let n = 0;
  files.forEach((_, f) => {
    const { rows, windowBase } = perFile[f]!;
    const column = scores[f]!;
    for (let r = 0; r < rows.sweep.length; r++) {
      const score = column[rows.first + r]!;
      anomaly[n] = Number.isFinite(score) ? score : 0;
      sweep[n] = rows.sweep[r]!;
      windowId[n] = rows.window[r]! < 0 ? -1 : windowBase + rows.window[r]!;
      n++;
    }
  });
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => anomaly[b]! - anomaly[a]!);

  // Sweep the threshold down through every distinct score; nothing detected is the starting point.
  const best = new Float64Array(windowCount).fill(NaN);
  let raw = -profile.fn * windowCount;
  let tp = 0;
  let fp = 0;
  let result: ProfileScore = { normalized: 0, raw, threshold: Infinity, truePositives: 0, falsePositives: 0, falseNegatives: windowCount };
  for (let k = 0; k < total; ) {
    const threshold = anomaly[order[k]!]!;
    for (; k < total && anomaly[order[k]!] === threshold; k++) {
      const row = order[k]!;
      const w = windowId[row]!;
      if (w < 0) {
        raw += sweep[row]!;
        fp++;
      } else if (Number.isNaN(best[w]!)) {
        raw += profile.fn + sweep[row]!;
        best[w] = sweep[row]!;
        tp++;
      } else if (sweep[row]! > best[w]!) {
        raw += sweep[row]! - best[w]!;
        best[w] = sweep[row]!;
      }
    }
    if (raw > result.raw) {
      result = { normalized: 0, raw, threshold, truePositives: tp, falsePositives: fp, falseNegatives: windowCount - tp };
    }
  }
  const perfect = profile.tp * windowCount;
  const none = -profile.fn * windowCount;
  result.normalized = windowCount === 0 ? 0 : (100 * (result.raw - none)) / (perfect - none);
  return result;
}
