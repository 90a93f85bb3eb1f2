/**
 * Where a detector wins and loses on a corpus at one threshold: per category, windows found and missed,
 * and false-positive rows, counted the way the scorer counts them (rows after the probationary period).
 */
import type { CorpusFile } from './corpus.ts';
import { probationaryLength } from './scorer.ts';

/** Outcome of one category (the folder of `<category>/<file>.csv`) at one threshold. */
export interface CategoryOutcome {
  category: string;
  files: number;
  windows: number;
  /** Windows with at least one scored row at or above the threshold. */
  detected: number;
  /** Scored rows at or above the threshold outside every window. */
  falsePositiveRows: number;
}

/** The category of a corpus file: the folder of `<category>/<file>.csv` (`.` for a file at the top). */
export function categoryOf(name: string): string {
  return name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.';
}

/** Counts detected windows and false-positive rows per category at `threshold`, categories sorted by name. */
export function breakdownByCategory(files: CorpusFile[], scores: ArrayLike<number>[], threshold: number): CategoryOutcome[] {
  const byCategory = new Map<string, CategoryOutcome>();
  files.forEach((file, f) => {
    const category = categoryOf(file.name);
    let outcome = byCategory.get(category);
    if (!outcome) {
      outcome = { category, files: 0, windows: 0, detected: 0, falsePositiveRows: 0 };
      byCategory.set(category, outcome);
    }
    const column = scores[f]!;
    const detected = new Set<number>();
    outcome.files++;
    outcome.windows += file.windows.length;
    for (let i = probationaryLength(column.length); i < column.length; i++) {
      if (!(column[i]! >= threshold)) continue;
      const time = file.timestamps[i]!;
      const window = file.windows.findIndex(([from, to]) => time >= from && time <= to);
      if (window < 0) outcome.falsePositiveRows++;
      else detected.add(window);
    }
    outcome.detected += detected.size;
  });
  return [...byCategory.values()].sort((a, b) => a.category.localeCompare(b.category));
}
