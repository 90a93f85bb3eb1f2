/**
 * What every chaos scenario is: a name, a run bounded in time, and a result that says which
 * invariants held. The runner (bench/chaos.ts) and the CI subset (test/bench/chaos.test.ts) run the
 * same scenarios; only `scale` differs.
 */

/** What a scenario is given to run. */
export interface ScenarioContext {
  /** `host:port` of the (mock) Kafka broker every scenario shares; each uses topics of its own. */
  brokers: string;
  /** 1 runs the scenario as documented (docs/reliability.md); smaller values shrink its durations and counts. */
  scale: number;
  /** Also exercises inputs that break the service today (docs/reliability.md, "Known failures"). */
  knownBugs: boolean;
  /** Progress for a person watching; never part of the result. */
  log(message: string): void;
}

/** What a scenario reports: its figures, and one line per invariant that did not hold. */
export interface ScenarioOutcome {
  /** Measured figures (counts, milliseconds, megabytes), printed as they are. */
  figures: Record<string, unknown>;
  /** Empty when every invariant held. */
  failures: string[];
}

/** The JSON line printed for one scenario. */
export interface ScenarioResult extends ScenarioOutcome {
  scenario: string;
  ok: boolean;
  scale: number;
  durationMs: number;
}

/** One chaos scenario. */
export interface Scenario {
  /** The name `--only` selects it by. */
  name: string;
  run(context: ScenarioContext): Promise<ScenarioOutcome>;
}

/** Runs a scenario, turning a thrown error into a failed result rather than losing the others. */
export async function runScenario(scenario: Scenario, context: ScenarioContext): Promise<ScenarioResult> {
  const started = Date.now();
  let outcome: ScenarioOutcome;
  try {
    outcome = await scenario.run(context);
  } catch (error) {
    outcome = { figures: {}, failures: [`the scenario itself failed: ${(error as Error).stack ?? String(error)}`] };
  }
  return { scenario: scenario.name, ok: outcome.failures.length === 0, scale: context.scale, durationMs: Date.now() - started, ...outcome };
}

/** A duration of the full-scale scenario scaled down, never below `minimumMs`. */
export function scaledMs(fullMs: number, scale: number, minimumMs: number): number {
  return Math.max(minimumMs, Math.round(fullMs * scale));
}

/** A count of the full-scale scenario scaled down, never below `minimum`. */
export function scaledCount(full: number, scale: number, minimum: number): number {
  return Math.max(minimum, Math.round(full * scale));
}

/** Collects the invariants of one scenario run: each `check` that fails adds one line. */
export class Invariants {
  readonly failures: string[] = [];

  /** Records `message` when `holds` is false; returns `holds`. */
  check(holds: boolean, message: string): boolean {
    if (!holds) this.failures.push(message);
    return holds;
  }
}
