import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

describe('npm start with a bad configuration', () => {
  it('refuses to start, listing every problem, and exits 1', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cw-main-')), 'changewatch.yaml');
    writeFileSync(file, 'kafka:\n  brokers: [nohost]\npipeline:\n  alertThreshold: 7\n');
    const failure = await run(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', file], { cwd: repoRoot, env: { ...process.env, PORT: 'eighty' } }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/invalid configuration/);
    expect(failure?.stderr).toMatch(/PORT: not a number/);
    expect(failure?.stderr).toMatch(/kafka\.brokers\.0: host:port/);
    expect(failure?.stderr).toMatch(/pipeline\.alertThreshold:/);
  }, 30_000);
});
