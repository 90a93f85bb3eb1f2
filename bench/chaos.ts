/**
 * `npm run bench:chaos`: the chaos suite (docs/reliability.md). Starts one mock Kafka broker (or
 * uses `--brokers`), runs each scenario in turn against changewatch processes of its own, prints one
 * JSON line per scenario and a final JSON line summarizing all; exits 1 when any invariant broke.
 *
 *   npm run bench:chaos                       # every scenario at full scale (about 7 minutes)
 *   npm run bench:chaos -- --only kill        # one scenario (repeat --only for several)
 *   npm run bench:chaos -- --scale 0.1        # durations and counts scaled down (the CI subset uses small scales)
 *   npm run bench:chaos -- --known-bugs       # also check the known failures of docs/reliability.md (they fail today)
 *
 * Not part of `npm test`: test/bench/chaos.test.ts runs a small, fast subset of each scenario instead.
 */
import { parseArgs } from 'node:util';
import { authScenario } from './chaos/auth.ts';
import { brokerGoneScenario } from './chaos/broker-gone.ts';
import { fuzzScenario } from './chaos/fuzz.ts';
import { killScenario } from './chaos/kill.ts';
import { receiverDownScenario } from './chaos/receiver-down.ts';
import { runScenario, type Scenario, type ScenarioResult } from './chaos/scenario.ts';
import { startMockKafka, type MockKafka } from '../tooling/dev/mock-kafka.ts';

/**
 * Every scenario, in run order. A scenario is one entry: an object with a `name` and a `run(context)`
 * returning its figures and failures (bench/chaos/scenario.ts); the runner, `--only` and the final
 * summary pick it up from this list alone.
 */
export const SCENARIOS: readonly Scenario[] = [fuzzScenario, killScenario, receiverDownScenario, brokerGoneScenario, authScenario];

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    scale: { type: 'string', default: '1' },
    brokers: { type: 'string' },
    'known-bugs': { type: 'boolean', default: false },
  },
  strict: true,
});

const scale = Number(values.scale);
if (!(scale > 0 && scale <= 10)) throw new Error(`--scale must be a number in (0, 10], got ${values.scale}`);
const unknown = (values.only ?? []).filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
if (unknown.length) throw new Error(`no scenario ${unknown.join(', ')}; there are ${SCENARIOS.map((s) => s.name).join(', ')}`);
const selected = values.only ? SCENARIOS.filter((scenario) => values.only!.includes(scenario.name)) : SCENARIOS;

const started = Date.now();
let broker: MockKafka | undefined;
const brokers = values.brokers ?? (broker = await startMockKafka()).brokers;
const results: ScenarioResult[] = [];
try {
  for (const scenario of selected) {
    process.stderr.write(`chaos: ${scenario.name} (scale ${scale})\n`);
    const result = await runScenario(scenario, { brokers, scale, knownBugs: values['known-bugs'], log: (message) => process.stderr.write(`  ${message}\n`) });
    results.push(result);
    console.log(JSON.stringify(result));
  }
} finally {
  await broker?.stop();
}
const failed = results.filter((result) => !result.ok).map((result) => result.scenario);
console.log(
  JSON.stringify({
    chaos: {
      ok: failed.length === 0,
      scale,
      knownBugs: values['known-bugs'],
      date: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      scenarios: Object.fromEntries(results.map((result) => [result.scenario, result.ok ? 'ok' : `failed (${result.failures.length})`])),
      failed,
    },
  }),
);
process.exit(failed.length === 0 ? 0 : 1);
