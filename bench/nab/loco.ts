/**
 * Leave-one-category-out (LOCO) scoring: how well the fitted parameters of a NAB score transfer.
 *
 * NAB's own score picks the best threshold on the whole corpus, and choosing a configuration by that score
 * fits one more parameter on the same data. Here, for each category of the corpus in turn, the configuration
 * and the threshold are chosen on the other categories only (the configuration with the largest raw score at
 * its own best threshold, found by NAB's sweep on those categories), and the held-out category is scored
 * with that configuration at that fixed threshold. The held-out raw scores of all categories are pooled
 * into one normalized score, comparable to the full-corpus score but with nothing fitted on what it scores.
 */
import { categoryOf } from './breakdown.ts';
import type { CorpusFile, CostProfile } from './corpus.ts';
import { bestThreshold, poolRows, rankRows, scoreAtThreshold, type PooledRows, type RankedRows } from './scorer.ts';

/** One configuration's outputs over the corpus, ranked by `rankRows` (once, for every profile). */
export interface Candidate {
  label: string;
  ranked: RankedRows;
}

/** A candidate from its outputs: `scores[f][row]` for every row of `files[f]`. */
export function candidate(files: CorpusFile[], label: string, scores: ArrayLike<number>[]): Candidate {
  return { label, ranked: rankRows(files, scores) };
}

/** The outcome of holding out one category. */
export interface HeldOutCategory {
  category: string;
  files: number;
  windows: number;
  /** Label of the configuration chosen on the other categories. */
  chosen: string;
  /** The threshold chosen on the other categories with that configuration (`Infinity`: fire nowhere). */
  threshold: number;
  /** Normalized score of the chosen configuration on the other categories, at that threshold. */
  fitted: number;
  /** Raw score of the held-out category at that configuration and threshold. */
  raw: number;
  /** Raw score of a detector that never fires (`-fn · windows`) and of a perfect one (`tp · windows`). */
  null: number;
  perfect: number;
  /** `100 · (raw − null) / (perfect − null)`; NaN for a category without windows. */
  normalized: number;
  /** Held-out windows detected, and scored held-out rows at or above the threshold outside every window. */
  detected: number;
  falsePositiveRows: number;
}

/** LOCO over every category, and the pooled score. */
export interface LocoResult {
  categories: HeldOutCategory[];
  raw: number;
  null: number;
  perfect: number;
  /** `100 · (Σ raw − Σ null) / (Σ perfect − Σ null)` over the held-out categories. */
  normalized: number;
}

/**
 * Runs LOCO under `profile` over `candidates` (at least one; on equal raw scores the earlier candidate wins).
 * Categories are visited in name order.
 */
export function leaveOneCategoryOut(files: CorpusFile[], candidates: Candidate[], profile: CostProfile): LocoResult {
  if (candidates.length === 0) throw new Error('LOCO needs at least one candidate configuration');
  const pooled: PooledRows[] = candidates.map((c) => poolRows(files, c.ranked, profile));
  const categoryOfFile = files.map((file) => categoryOf(file.name));
  const categories = [...new Set(categoryOfFile)].sort((a, b) => a.localeCompare(b));

  const outcomes = categories.map((category): HeldOutCategory => {
    const training = (f: number) => categoryOfFile[f] !== category;
    const heldOut = (f: number) => categoryOfFile[f] === category;
    let chosen = 0;
    let fit = bestThreshold(pooled[0]!, training);
    for (let c = 1; c < candidates.length; c++) {
      const candidateFit = bestThreshold(pooled[c]!, training);
      if (candidateFit.raw > fit.raw) {
        chosen = c;
        fit = candidateFit;
      }
    }
    const score = scoreAtThreshold(pooled[chosen]!, fit.threshold, heldOut);
    const windows = score.truePositives + score.falseNegatives;
    const none = -profile.fn * windows;
    const perfect = profile.tp * windows;
    return {
      category,
      files: categoryOfFile.filter((c) => c === category).length,
      windows,
      chosen: candidates[chosen]!.label,
      threshold: fit.threshold,
      fitted: fit.normalized,
      raw: score.raw,
      null: none,
      perfect,
      normalized: windows === 0 ? NaN : (100 * (score.raw - none)) / (perfect - none),
      detected: score.truePositives,
      falsePositiveRows: score.falsePositives,
    };
  });

  const raw = outcomes.reduce((sum, o) => sum + o.raw, 0);
  const none = outcomes.reduce((sum, o) => sum + o.null, 0);
  const perfect = outcomes.reduce((sum, o) => sum + o.perfect, 0);
  return { categories: outcomes, raw, null: none, perfect, normalized: perfect === none ? 0 : (100 * (raw - none)) / (perfect - none) };
}
