import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isChangewatchError } from '../../../server/errors.ts';
import { lockDataDir } from '../../../server/store/data-dir-lock.ts';

describe('data dir lock', () => {
  const dirs: string[] = [];
  const children: Array<ReturnType<typeof spawn>> = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'changewatch-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const unavailable = (error: unknown) => isChangewatchError(error, 'CW_STORE_UNAVAILABLE');

  it('refuses a second open in the same process until released', async () => {
    const dir = await tempDir();
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(join(dir, 'changewatch.lock'), 'utf8'))).toEqual({ pid: process.pid, hostname: hostname() });
    await expect(lockDataDir(dir)).rejects.toSatisfy(unavailable);
    await lock.release();
    await (await lockDataDir(dir)).release();
  });

  it('refuses a dir locked by another live process, naming it', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(child);
    await writeFile(join(dir, 'changewatch.lock'), JSON.stringify({ pid: child.pid, hostname: hostname() }));
    const error = await lockDataDir(dir).catch((e: unknown) => e);
    expect(unavailable(error)).toBe(true);
    expect((error as Error).message).toContain(`process ${child.pid}`);
  });

  it('takes over a lock left by a process that is gone, or a malformed one', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    await writeFile(join(dir, 'changewatch.lock'), JSON.stringify({ pid: child.pid, hostname: hostname() }));
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(join(dir, 'changewatch.lock'), 'utf8')).pid).toBe(process.pid);
    await lock.release();
    await writeFile(join(dir, 'changewatch.lock'), 'garbage');
    await (await lockDataDir(dir)).release();
  });
});
