/**
 * The chaos suite's small, fast subset (`npm run bench:chaos` runs it in full; docs/reliability.md):
 * every scenario at a small scale, concurrently (each has its own topics, consumer group, data dir,
 * service process and receiver), asserting the same invariants as the full run.
 */
import { describe, expect, inject, it } from 'vitest';
import { brokerGoneScenario } from '../../bench/chaos/broker-gone.ts';
import { fuzzScenario } from '../../bench/chaos/fuzz.ts';
import { killScenario } from '../../bench/chaos/kill.ts';
import { receiverDownScenario } from '../../bench/chaos/receiver-down.ts';
import { runScenario, type Scenario, type ScenarioResult } from '../../bench/chaos/scenario.ts';

const brokers = inject('kafkaBrokers');

/** Runs `scenario` at `scale` against the shared broker, quietly. */
function run(scenario: Scenario, scale: number): Promise<ScenarioResult> {
  return runScenario(scenario, { brokers, scale, knownBugs: false, log: () => undefined });
}

describe.concurrent('chaos suite at small scale', () => {
  it('fuzz: 2,000 hostile inputs are each dead-lettered or refused with their code, every valid item is processed', { timeout: 150_000 }, async () => {
    const result = await run(fuzzScenario, 0.04);
    expect(result.failures).toEqual([]);
    expect(result.figures).toMatchObject({ hostile: 2_000, missingDeadLetters: 0, wrongCodes: 0, unexpectedDeadLetters: 0, httpMismatches: 0 });
    expect(result.figures.valid).toBeGreaterThan(1_000);
  });

  it('kill -9: one SIGKILL mid-stream loses no alert and pages each incident once', { timeout: 150_000 }, async () => {
    const result = await run(killScenario, 0.1);
    expect(result.failures).toEqual([]);
    expect(result.figures).toMatchObject({ kills: 1, lostAlerts: 0, unexpectedAlerts: 0 });
    expect(result.figures.incidents).toBeGreaterThanOrEqual(2);
  });

  it('receiver down 5 s: every notification is delivered after, once per idempotency key', { timeout: 150_000 }, async () => {
    const result = await run(receiverDownScenario, 0.04);
    expect(result.failures).toEqual([]);
    expect(result.figures).toMatchObject({ incidents: 1, webhookRedeliveries: 0, pagerDutyRepeatedTriggers: 0 });
    expect(result.figures.downMs).toBeGreaterThanOrEqual(5_000);
  });

  it('broker gone: /readyz answers 503 while the link is cut, nothing crashes or is lost after', { timeout: 150_000 }, async () => {
    const result = await run(brokerGoneScenario, 0.1);
    expect(result.failures).toEqual([]);
    expect(result.figures).toMatchObject({ lostAlerts: 0 });
    expect(result.figures.readyzDropMs).toBeGreaterThan(0);
  });
});
