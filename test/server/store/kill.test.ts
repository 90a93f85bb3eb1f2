import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../server/store/store.ts';

const WRITER = fileURLToPath(new URL('./fixtures/kill-writer.ts', import.meta.url));

describe('kill -9 on the embedded database', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every transaction that committed before the process was killed', { timeout: 180_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'changewatch-kill-'));
    const dataDir = join(dir, 'data');
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const committed: string[] = [];
    let buffered = '';
    const enough = new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        committed.push(...lines.filter((line) => line.startsWith('killed-')));
        if (committed.length >= 50) resolve();
      });
    });
    await enough;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    // The dead writer's lock is taken over; Postgres recovery replays the WAL.
    const store = await Store.open({ dataDir });
    try {
      const alerts = await store.alerts.getMany(committed);
      expect(alerts.map((alert) => alert.id)).toEqual(committed);
      const audited = new Set((await store.audit.list({ actor: 'kill-writer', limit: 1000 })).map((entry) => entry.target));
      expect(committed.filter((id) => !audited.has(id))).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
