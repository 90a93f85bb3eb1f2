/**
 * Runs changewatch (`server/main.ts`) as a separate process, as in production: used by the crash
 * test (which SIGKILLs it) and by the latency benchmark (so the load generator does not share its
 * event loop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A changewatch process and the base URL it serves on. */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
}

/** Starts `server/main.ts` with `env` on an ephemeral port and resolves once it listens. */
export function startServiceProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`changewatch did not start within ${timeoutMs} ms: ${out.slice(-2000)}`));
    }, timeoutMs);
    const onOutput = (chunk: Buffer): void => {
      // Keep only the start of the log: enough to find the address and to explain a failed start.
      if (out.length < 100_000) out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (!match) return;
      // Found: stop watching (the service logs on for its whole life) but keep draining its pipes.
      child.stdout!.off('data', onOutput);
      child.stderr!.off('data', onOutput);
      child.stdout!.resume();
      child.stderr!.resume();
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, url: match[1]! });
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`changewatch exited with ${code} before listening: ${out.slice(-2000)}`));
    });
  });
}

/** Stops a service process with SIGTERM (graceful: final checkpoint) and waits for it to exit. */
export function stopServiceProcess(service: ServiceProcess, timeoutMs = 10_000): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
