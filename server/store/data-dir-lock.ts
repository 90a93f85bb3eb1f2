/**
 * An exclusive lock on a PGlite data directory. PGlite is a single-process database with no lock
 * of its own: two changewatch processes on one data dir would corrupt it. The lock is a file holding
 * the owner's pid and hostname; a lock left by a process that no longer runs (a crash, `kill -9`)
 * is taken over, so a restart never needs manual cleanup.
 */
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createError } from '../errors.ts';

/** Name of the lock file inside the data dir. */
const LOCK_FILE = 'changewatch.lock';

/** Directories this process holds, so opening the same dir twice in one process also fails. */
const heldByThisProcess = new Set<string>();

/** A held lock. */
export interface DataDirLock {
  /** Removes the lock file; safe to call twice. */
  release(): Promise<void>;
}

/** Contents of the lock file. */
interface LockOwner {
  pid: number;
  hostname: string;
}

/** Takes the lock on `dataDir` (which must exist) or fails with `CW_STORE_UNAVAILABLE` if another live process holds it. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  if (heldByThisProcess.has(dir)) {
    throw createError('CW_STORE_UNAVAILABLE', `data dir ${dir} is already open in this process`);
  }
  const me: LockOwner = { pid: process.pid, hostname: hostname() };
  if (!(await tryCreate(path, me))) {
    const owner = await readOwner(path);
    if (owner !== undefined && isAlive(owner)) {
      throw createError('CW_STORE_UNAVAILABLE', `data dir ${dir} is in use by process ${owner.pid} on ${owner.hostname}; stop it or set another CHANGEWATCH_DATA_DIR`, {
        pid: owner.pid,
        hostname: owner.hostname,
      });
    }
    // Stale: its owner is gone. Take it over; if another starter raced us to it, it wins.
    await unlink(path).catch(() => {});
    if (!(await tryCreate(path, me))) {
      throw createError('CW_STORE_UNAVAILABLE', `data dir ${dir} was locked by another process starting at the same time`);
    }
  }
  heldByThisProcess.add(dir);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldByThisProcess.delete(dir);
      await unlink(path).catch(() => {});
    },
  };
}

/** Creates the lock file exclusively; false when it already exists. */
async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    await writeFile(path, JSON.stringify(owner), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The lock file's owner, or undefined when the file is unreadable or malformed (treated as stale). */
async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.hostname === 'string' ? { pid: owner.pid, hostname: owner.hostname } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the owner still runs. Only checkable on the same host: a lock written under another
 * hostname (typically a container replaced after a crash, sharing the volume) is treated as stale.
 * Our own pid means a previous incarnation of this container (pid 1 again), not a live owner,
 * because in-process re-opens are caught earlier.
 */
function isAlive(owner: LockOwner): boolean {
  if (owner.hostname !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
