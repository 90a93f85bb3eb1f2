/**
 * Streams a corpus through a detector, row by row, and writes NAB-style result files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Detector } from '../../detectors/types.ts';
import type { CorpusFile } from './corpus.ts';

/**
 * Runs a fresh detector over each file in order and returns one score per row. The detector sees a row
 * and must score it before it sees the next one: there is no look-ahead and nothing per file.
 */
export function runCorpus(files: CorpusFile[], createDetector: () => Detector): Float64Array[] {
  return files.map((file) => {
    const detector = createDetector();
    const scores = new Float64Array(file.values.length);
    for (let i = 0; i < scores.length; i++) {
      scores[i] = detector.update({ timestamp: file.timestamps[i]!, value: file.values[i]! }).score;
    }
    return scores;
  });
}

/**
 * Writes `<out>/<category>/<file>.csv` with a header `anomaly_score` and one score per data row, at full
 * precision (`String(x)` is the shortest text that reads back as the same double).
 */
export function writeResults(outDir: string, files: CorpusFile[], scores: ArrayLike<number>[]): void {
  files.forEach((file, f) => {
    const target = path.join(outDir, file.name);
    mkdirSync(path.dirname(target), { recursive: true });
    const column = scores[f]!;
    const lines = ['anomaly_score'];
    for (let i = 0; i < column.length; i++) lines.push(String(column[i]));
    writeFileSync(target, `${lines.join('\n')}\n`);
  });
}
