import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { floorViolations, QUICK_CONFIG, type Floors } from '../../bench/sensitivity/floors.ts';
import { CaseStream, seasonFactor } from '../../bench/sensitivity/generate.ts';
import { allRows, drawCase, drawQuiet, type CaseSpec } from '../../bench/sensitivity/grid.ts';
import { summarize } from '../../bench/sensitivity/report.ts';
import { binomial } from '../../bench/sensitivity/rng.ts';
import { runGrid } from '../../bench/sensitivity/run.ts';
import type { TelemetryPoint } from '../../contract/events.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const floorsFile = path.join(repoRoot, 'test/bench/sensitivity-floors.json');

/** Every metric point of a stream, in order. */
function points(stream: CaseStream): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  for (let e = stream.next(); e; e = stream.next()) for (const r of e.records) if ('metric' in r) out.push(r.metric);
  return out;
}

function row(kind: string, shape: string) {
  const found = allRows().find((r) => r.kind === kind && r.shape.name === shape);
  if (!found) throw new Error(`no row ${kind}/${shape}`);
  return found;
}

/** A changed stream and its twin, forked at the onset. */
function pair(spec: CaseSpec): { before: TelemetryPoint[]; changed: TelemetryPoint[]; twin: TelemetryPoint[] } {
  const stream = new CaseStream(spec, false);
  const before: TelemetryPoint[] = [];
  while (!stream.atOnset()) for (const r of stream.next()!.records) if ('metric' in r) before.push(r.metric);
  return { before, changed: points(stream.fork(true)), twin: points(stream) };
}

describe('sensitivity generator', () => {
  it('is deterministic and a twin differs from its changed series only from the onset, by the change', () => {
    const { kind, shape } = row('latency', 'step-up-4x');
    const spec = drawCase(3, 0, kind, shape);
    const a = pair(spec);
    const b = pair(drawCase(3, 0, kind, shape));
    expect(a).toEqual(b);
    expect(a.before).toHaveLength(spec.onsetIndex);
    expect(a.changed).toHaveLength(spec.postPoints);
    for (let i = 0; i < a.twin.length; i++) {
      expect(a.changed[i]!.timestamp).toBe(a.twin[i]!.timestamp);
      expect(a.changed[i]!.value / a.twin[i]!.value).toBeCloseTo(4, 9);
    }
  });

  it('makes a monotonic counter, and a stopped series sends nothing after the onset while its companion goes on', () => {
    const counter = points(new CaseStream(drawCase(1, 0, 'counter', row('counter', 'step-down-2x').shape), true));
    for (let i = 1; i < counter.length; i++) expect(counter[i]!.value).toBeGreaterThanOrEqual(counter[i - 1]!.value);
    const spec = drawCase(1, 0, 'rate', row('rate', 'stopped-reporting').shape);
    const { before, changed, twin } = pair(spec);
    expect(spec.companion).toBe(true);
    expect(changed.every((p) => p.metric !== spec.metric)).toBe(true);
    expect(changed.length).toBeGreaterThan(10);
    expect(twin.filter((p) => p.metric === spec.metric)).toHaveLength(spec.postPoints);
    expect(before.filter((p) => p.metric === spec.metric)).toHaveLength(spec.onsetIndex);
  });

  it('rolls a version out 10 % → 50 % → 100 % with both versions at the same timestamps and a deploy event first', () => {
    const spec = drawCase(2, 0, 'rate', row('rate', 'rollout-step-up-2x').shape);
    const stream = new CaseStream(spec, true);
    while (!stream.atOnset()) stream.next();
    const first = stream.next()!;
    expect('change' in first.records[0]!).toBe(true);
    const parts = first.records.slice(1).map((r) => ('metric' in r ? r.metric : null)!);
    expect(parts.map((p) => p.tags?.version)).toEqual(['v1', 'v2']);
    expect(parts[0]!.timestamp).toBe(parts[1]!.timestamp);
    // v2 serves 10 % of the traffic and, being bad, doubles its share.
    expect(parts[1]!.value / parts[0]!.value).toBeCloseTo((0.1 * 2) / 0.9, 9);
    const later = points(stream);
    expect(later.at(-1)!.tags?.version).toBe('v2');
    expect(later.filter((p) => p.tags?.version === 'v1').length).toBe(2 * spec.rollout!.stage - 1);
  });

  it('draws error counts binomially and puts the daily trough at night', () => {
    let sum = 0;
    for (let i = 0; i < 2000; i++) sum += binomial(1000, 0.01, (i + 0.5) / 2000);
    expect(sum / 2000).toBeCloseTo(10, 0);
    const spec = { seasonality: 'daily' as const, amplitude: 0.3, weekendDip: 0 };
    expect(seasonFactor(spec, Date.UTC(2026, 2, 3, 3))).toBeCloseTo(0.7, 6);
    expect(seasonFactor(spec, Date.UTC(2026, 2, 3, 15))).toBeCloseTo(1.3, 6);
    const weekly = { seasonality: 'weekly' as const, amplitude: 0, weekendDip: 0.3 };
    expect(seasonFactor(weekly, Date.UTC(2026, 2, 7, 12))).toBeCloseTo(0.7, 6); // a Saturday
    expect(seasonFactor(weekly, Date.UTC(2026, 2, 4, 12))).toBe(1); // a Wednesday
    expect(drawQuiet(1, 0, 10_000, 'heavy').shape).toBeNull();
  });
});

describe('npm run bench:sensitivity', () => {
  it('ends with one JSON line holding the verdicts, the false-alarm cells and the rows', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/sensitivity.ts', '--seeds', '1', '--fa-days', '0', '--only', '^latency/step-up-(2|10)x$'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.some((l) => l.startsWith('latency/step-up-2x'))).toBe(true);
    const result = JSON.parse(lines.at(-1)!) as { sensitivity: Record<string, any> };
    expect(Object.keys(result.sensitivity.rows)).toEqual(['latency/step-up-2x', 'latency/step-up-10x']);
    expect(result.sensitivity.step2x.target).toBe(0.99);
    expect(result.sensitivity.falseAlarmsPer100SeriesDays.target).toBe(1);
  });
});

describe('sensitivity floors (quick grid)', () => {
  it(
    'no row detects less in time, and no row or false-alarm cell alarms more, than its committed floor',
    () => {
      const floors = JSON.parse(readFileSync(floorsFile, 'utf8')) as Floors;
      expect(floors.config, 'floors were written for another configuration: rewrite them with `npm run bench:sensitivity -- --quick --write-floors`').toEqual(QUICK_CONFIG);
      const summary = summarize(runGrid({ ...QUICK_CONFIG, seeds: [...QUICK_CONFIG.seeds] }));
      expect(Object.keys(summary.rows)).toEqual(allRows().map((r) => `${r.kind}/${r.shape.name}`));
      expect(floorViolations(summary, floors)).toEqual([]);
      // The check bites: a row held to more than it achieves, or a cell to fewer alarms than it raised, fails.
      const [key, stats] = Object.entries(summary.rows).find(([, r]) => r.inTime < 1)!;
      const stricter = structuredClone(floors);
      stricter.rows[key]!.minInTime = stats.inTime + 0.01;
      const [cell] = Object.entries(summary.falseAlarmsPer100SeriesDays.byCell).find(([, x]) => x !== null && x > 0)!;
      stricter.falseAlarmCells[cell] = { maxPer100SeriesDays: 0 };
      expect(floorViolations(summary, stricter)).toHaveLength(2);
    },
    120_000,
  );
});
