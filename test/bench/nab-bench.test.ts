import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Writes a two-file corpus in the NAB layout: a spike in one file, nothing in the other. */
function writeCorpus(root: string): Record<string, number> {
  const rows: Record<string, number> = { 'catA/spiky.csv': 600, 'catB/quiet.csv': 400 };
  const start = Date.UTC(2026, 0, 1);
  const stamp = (i: number) => new Date(start + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
  for (const [name, count] of Object.entries(rows)) {
    const lines = ['timestamp,value'];
    for (let i = 0; i < count; i++) lines.push(`${stamp(i)},${name.includes('spiky') && i === 400 ? 90 : 10 + Math.sin(i) + (i % 7) / 10}`);
    mkdirSync(path.join(root, 'data', path.dirname(name)), { recursive: true });
    writeFileSync(path.join(root, 'data', name), `${lines.join('\n')}\n`);
  }
  mkdirSync(path.join(root, 'labels'));
  writeFileSync(path.join(root, 'labels', 'combined_windows.json'), JSON.stringify({ 'catA/spiky.csv': [[`${stamp(390)}.000000`, `${stamp(420)}.000000`]], 'catB/quiet.csv': [] }));
  mkdirSync(path.join(root, 'config'));
  const profile = (fp: number, fn: number) => ({ CostMatrix: { tpWeight: 1, fpWeight: fp, fnWeight: fn, tnWeight: 1 } });
  writeFileSync(
    path.join(root, 'config', 'profiles.json'),
    JSON.stringify({ standard: profile(0.11, 1), reward_low_FP_rate: profile(0.22, 1), reward_low_FN_rate: profile(0.11, 2) }),
  );
  return rows;
}

describe('npm run bench:nab on a corpus in the NAB layout', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'nab-bench-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes one full-precision score per data row and ends with the JSON line', () => {
    const rows = writeCorpus(root);
    const out = path.join(root, 'out');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/nab.ts', '--data', root, '--out', out], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);

    for (const [name, count] of Object.entries(rows)) {
      const lines = readFileSync(path.join(out, name), 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('anomaly_score');
      expect(lines).toHaveLength(count + 1);
      for (const line of lines.slice(1)) {
        const score = Number(line);
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        expect(String(score)).toBe(line);
      }
    }

    const lines = run.stdout.trimEnd().split('\n');
    const result = JSON.parse(lines.at(-1)!) as { nab: Record<string, number> & { loco: Record<string, number> } };
    expect(Object.keys(result.nab)).toEqual(['standard', 'reward_low_FP_rate', 'reward_low_FN_rate', 'loco']);
    // The spike is the only event: a sound detector catches it without false alarms.
    expect(result.nab.standard).toBeGreaterThan(50);

    // Leave one category out, by default: one row per category, and the pooled scores in the JSON line.
    expect(Object.keys(result.nab.loco)).toEqual(['standard', 'defaultConfig']);
    const header = lines.findIndex((line) => line.trim().startsWith('held-out category'));
    expect(header).toBeGreaterThan(0);
    expect(lines.slice(header + 1, header + 3).map((line) => line.trim().split(/\s+/)[0])).toEqual(['catA', 'catB']);
    // Held out, catA's threshold comes from catB alone, where any detection is a false alarm: firing
    // nowhere is best there, so catA's window is missed and the pooled LOCO score cannot be above 0.
    expect(lines[header + 1]).toMatch(/\bnone\b.*\s0\/1\s/);
    expect(result.nab.loco.standard).toBeLessThanOrEqual(0);
    expect(result.nab.loco.defaultConfig).toBeLessThanOrEqual(0);
  });

  it('with --no-loco, skips leave-one-category-out', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/nab.ts', '--data', root, '--out', path.join(root, 'out-no-loco'), '--no-loco'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('leave-one-category-out');
    const result = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!) as { nab: Record<string, number> };
    expect(Object.keys(result.nab)).toEqual(['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']);
  });

  it('with --neighbours, scores the default detector beside twelve neighbouring configurations and reports their mean', () => {
    const out = path.join(root, 'out-neighbours');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/nab.ts', '--data', root, '--out', out, '--neighbours', '--no-loco'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const table = lines.slice(lines.indexOf('standard profile of the default detector and its neighbours:') + 1, -1);
    expect(table).toHaveLength(14);
    const scores = table.slice(0, 13).map((row) => Number(row.trim().split(/\s+/).at(-1)));
    const result = JSON.parse(lines.at(-1)!) as { nab: Record<string, number> };
    expect(scores[0]).toBeCloseTo(result.nab.standard!, 2);
    expect(result.nab.standardNeighbourMean).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 2);
  });
});
