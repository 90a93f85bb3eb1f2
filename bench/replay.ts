/**
 * `npm run bench:replay`: how fast `changewatch replay` backtests. Writes a simulated fleet's
 * history to a temp JSONL file, replays it through the real CLI (the same code path users run), and
 * ends with `{"replay":{"events":N,"eventsPerSec":..,"alerts":..}}`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FleetSimulator } from '../tooling/sim/fleet.ts';

const { values } = parseArgs({ options: { hours: { type: 'string', default: '48' } } });
const dir = mkdtempSync(path.join(tmpdir(), 'cw-bench-replay-'));
const input = path.join(dir, 'events.jsonl');
const output = path.join(dir, 'alerts.jsonl');
const start = Date.UTC(2026, 0, 5);
const fleet = new FleetSimulator({ seed: 1, start, incidentEveryMs: 30 * 60_000 });
const records = fleet.advance(start + Number(values.hours) * 3_600_000);
writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

const bin = path.resolve(import.meta.dirname, '../bin/changewatch.js');
// Time the CLI end to end (process start included) and, separately, its startup, to report steady throughput.
const t0 = process.hrtime.bigint();
execFileSync(process.execPath, [bin, 'replay', input, '--output', output], { stdio: ['ignore', 'ignore', 'inherit'] });
const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
writeFileSync(path.join(dir, 'empty.jsonl'), '');
const s0 = process.hrtime.bigint();
execFileSync(process.execPath, [bin, 'replay', path.join(dir, 'empty.jsonl'), '--output', path.join(dir, 'none.jsonl')], { stdio: 'ignore' });
const startupS = Number(process.hrtime.bigint() - s0) / 1e9;
const alerts = readFileSync(output, 'utf8').split('\n').filter(Boolean).length;
rmSync(dir, { recursive: true, force: true });

console.log(`replayed ${records.length} events in ${elapsedS.toFixed(2)} s (process startup ${startupS.toFixed(2)} s), ${alerts} alert emissions`);
console.log(JSON.stringify({ replay: { events: records.length, eventsPerSec: Math.round(records.length / (elapsedS - startupS)), eventsPerSecWithStartup: Math.round(records.length / elapsedS), alerts } }));
