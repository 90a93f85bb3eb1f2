/**
 * `npm run demo`: launches the demo (tooling/dev/demo-main.ts) in a process group of its own and
 * forwards SIGINT, SIGTERM and SIGHUP to it alone.
 *
 * Why a launcher: a terminal's Ctrl-C signals every process of the foreground group, and the demo's
 * helpers are in it — the mock broker, and the esbuild service tsx compiles TypeScript with (the
 * Kafka fetch thread and PGlite's worker still load modules through it in the first seconds). Killed
 * by the Ctrl-C itself, they would die under the service before it had stopped in order. Out of the
 * terminal's group, only the demo hears the signal, and it stops everything itself.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dev/demo-main.ts');
const demo = spawn(process.execPath, [...process.execArgv, main, ...process.argv.slice(2)], { stdio: 'inherit', detached: true });

const forward = (signal: NodeJS.Signals): void => {
  if (demo.exitCode === null && demo.signalCode === null) demo.kill(signal);
};
process.on('SIGINT', () => forward('SIGINT'));
process.on('SIGTERM', () => forward('SIGTERM'));
// The terminal closed: the demo (no longer tied to it) must not run on unseen.
process.on('SIGHUP', () => forward('SIGTERM'));
// Should this process end first (an uncaught error), the demo is not left running.
process.on('exit', () => forward('SIGTERM'));

demo.on('error', (err) => {
  process.stderr.write(`demo: cannot start ${main}: ${err.message}\n`);
  process.exit(1);
});
// The demo's exit status, or a shell's 128 + n for a demo killed by signal n.
demo.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
