/**
 * `npm run demo`'s shutdown, as a terminal's Ctrl-C does it: the launcher runs as a shell's
 * foreground job (a process group of its own) and SIGINT goes to the whole group, so any helper left
 * in it (the broker, tsx's esbuild service) would die under the service. The demo must exit 0 within
 * a few seconds, quietly, leaving nothing in the temp dir and no broker running; a second Ctrl-C
 * exits at once, still removing the temp folder.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

interface RunningDemo {
  child: ChildProcess;
  tempRoot: string;
  output: () => string;
  /** Pids of the demo's kcat (the mock broker) processes. */
  brokers: () => number[];
}

/** Starts the demo with a short history and no random incidents, its temp dir under a fresh TMPDIR; resolves once it runs. */
async function startDemoProcess(): Promise<RunningDemo> {
  const tempRoot = mkdtempSync(path.join(tmpdir(), 'cw-demo-test-'));
  cleanup.push(() => rmSync(tempRoot, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'tooling/demo.ts', '--history-minutes', '10', '--incident-every-minutes', '0', '--scorecard-every-minutes', '0'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', TMPDIR: tempRoot, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own, as a shell gives a foreground job: the signal below goes to all of it.
    detached: true,
  });
  let started: Array<{ pid: number }> = [];
  cleanup.push(() => {
    // A failed test must not leave the demo (in a group of its own) or its broker behind.
    for (const { pid } of [{ pid: child.pid! }, ...started]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const brokers = (): number[] => descendants(child.pid!).filter(({ command }) => command === 'kcat').map(({ pid }) => pid);
  await waitFor(() => out.includes('Ctrl-C to stop'), 60_000, () => `the demo did not start: ${out.slice(-2000)}`);
  started = descendants(child.pid!);
  return { child, tempRoot, output: () => out, brokers };
}

/** Every process below `root` (children, their children, ...), with its command name. */
function descendants(root: number): Array<{ pid: number; command: string }> {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/))
    .map(([pid, ppid, command]) => ({ pid: Number(pid), ppid: Number(ppid), command: command ?? '' }));
  const found: Array<{ pid: number; command: string }> = [];
  const parents = [root];
  while (parents.length) {
    const parent = parents.pop()!;
    for (const row of rows) {
      if (row.ppid !== parent) continue;
      found.push({ pid: row.pid, command: row.command });
      parents.push(row.pid);
    }
  }
  return found;
}

function waitFor(condition: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(message()));
      }
    }, 50);
  });
}

/** What is left under the demo's TMPDIR besides tsx's compile cache (the loader's, reused by every run, not the demo's). */
function leftInTemp(tempRoot: string): string[] {
  return readdirSync(tempRoot).filter((name) => !/^tsx-\d+$/.test(name));
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo, stopped with Ctrl-C', () => {
  it('stops the service, the simulator and then the broker in a few seconds, quietly, and removes its temp folder', { timeout: 90_000 }, async () => {
    const demo = await startDemoProcess();
    const broker = demo.brokers();
    expect(broker).toHaveLength(1);
    expect(readdirSync(demo.tempRoot).filter((name) => name.startsWith('changewatch-demo-'))).toHaveLength(1);

    const signalledAt = Date.now();
    process.kill(-demo.child.pid!, 'SIGINT');
    const code = await exited(demo.child);
    const tookMs = Date.now() - signalledAt;

    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(5_000);
    expect(leftInTemp(demo.tempRoot)).toEqual([]);
    expect(alive(broker[0]!)).toBe(false);
    const afterSignal = demo.output().slice(demo.output().indexOf('stopping'));
    // Piped, the service logs JSON; readable WARN/ERROR lines are refused too, in case it ever formats them.
    expect(afterSignal).not.toMatch(/ECONNREFUSED|"level":50|"level":40| WARN | ERROR /);
    expect(afterSignal).toMatch(/scorecard[^\n]*\nstopped; removed \S*changewatch-demo-/);
  });

  it('exits at once on a second Ctrl-C, still removing its temp folder and the broker', { timeout: 90_000 }, async () => {
    const demo = await startDemoProcess();
    const broker = demo.brokers();
    process.kill(-demo.child.pid!, 'SIGINT');
    await waitFor(() => demo.output().includes('Ctrl-C again'), 5_000, () => `no stopping line: ${demo.output().slice(-500)}`);
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await exited(demo.child)).toBe(130);
    expect(leftInTemp(demo.tempRoot)).toEqual([]);
    await waitFor(() => !alive(broker[0]!), 2_000, () => 'the broker outlived the demo');
  });
});
