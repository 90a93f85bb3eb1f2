import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract/alert.ts';
import { replayRecords } from '../../../server/pipeline/replay.ts';
import { FleetSimulator } from '../../../tooling/sim/fleet.ts';
import { T0 } from '../../support/factories.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin/changewatch.js');

function fleetFile(dir: string, extraLines: string[] = []): { file: string; records: ReturnType<FleetSimulator['advance']> } {
  const fleet = new FleetSimulator({ seed: 11, start: T0, incidentEveryMs: 20 * 60_000 });
  const records = fleet.advance(T0 + 90 * 60_000);
  const file = path.join(dir, 'events.jsonl');
  writeFileSync(file, [...records.map((r) => JSON.stringify(r)), ...extraLines].join('\n') + '\n');
  return { file, records };
}

describe('changewatch replay', () => {
  it('is deterministic: the same input gives byte-identical output, equal to the in-process replay', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-replay-'));
    const { file, records } = fleetFile(dir);
    const outA = path.join(dir, 'a.jsonl');
    const outB = path.join(dir, 'b.jsonl');
    const first = await run(process.execPath, [bin, 'replay', file, '--output', outA], { cwd: repoRoot });
    await run(process.execPath, [bin, 'replay', file, '--output', outB], { cwd: repoRoot });
    const a = readFileSync(outA, 'utf8');
    expect(a.length).toBeGreaterThan(0);
    expect(readFileSync(outB, 'utf8')).toBe(a);
    const expected = replayRecords(records);
    expect(a.trimEnd().split('\n').map((line) => JSON.parse(line) as Alert)).toEqual(expected);
    expect(first.stderr).toMatch(new RegExp(`replayed ${records.length} events: ${expected.length} alert emissions, 0 rejected`));
  }, 60_000);

  it('reports bad lines with their number and code and goes on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-replay-'));
    const { file, records } = fleetFile(dir, ['{"metric": {"service": "x"}}', 'not json', '{"alert": {}}']);
    const { stdout, stderr } = await run(process.execPath, [bin, 'replay', file], { cwd: repoRoot, maxBuffer: 64 << 20 });
    expect(stdout.length).toBeGreaterThan(0);
    expect(stderr).toMatch(new RegExp(`line ${records.length + 1}: CW_EVENT_SCHEMA`));
    expect(stderr).toMatch(new RegExp(`line ${records.length + 2}: CW_EVENT_INVALID_JSON`));
    expect(stderr).toMatch(/3 rejected/);
  }, 60_000);

  it('prints usage and exits 2 on a wrong call', async () => {
    await expect(run(process.execPath, [bin, 'replay'], { cwd: repoRoot })).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/usage: changewatch replay/) });
  });
});
