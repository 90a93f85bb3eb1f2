/**
 * Everything `npm run demo` runs, in one Node process: librdkafka's mock Kafka cluster (kcat, in a
 * process group of its own), the changewatch service, the live fleet simulator, the stand-in CD
 * system wired to the simulator (an approved rollback really rolls the simulated service back), and
 * the scorecard. `stop` takes them down in dependency order — the service while the broker still
 * answers, then the simulator's producer, then the broker — each step bounded, and removes the temp
 * folder everything was written to. tooling/dev/demo-main.ts is its command line (started by the
 * launcher tooling/demo.ts); the end-to-end test starts it with a short scenario.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../server/config.ts';
import { createLogger, type Logger } from '../../server/log.ts';
import { startService, type RunningService } from '../../server/service.ts';
import type { ChangeEffect } from '../sim/fleet.ts';
import { startDemoCdSystem, type DemoCdSystem } from './demo-cd-system.ts';
import { startDemoScorecard, type DemoScorecard } from './demo-scorecard.ts';
import { startLiveSimulator, type LiveSimulator } from './live-simulator.ts';
import { startMockKafka, type MockKafka } from './mock-kafka.ts';
import type { SimulatorArgs } from './simulator-args.ts';

/**
 * How long an alert's series must be back to normal before it resolves, in the demo (the service's
 * default is 5 min): the story ends a minute after the rollback instead of five.
 */
export const DEMO_RESOLVE_AFTER_MS = 60_000;

/** How long each piece may take to stop before shutdown moves on without it. */
const STOP_TIMEOUT_MS = { service: 5_000, simulator: 2_000, cd: 1_000 } as const;

/** Options of a demo run. */
export interface DemoOptions extends SimulatorArgs {
  /** Where the demo's own lines go (the CD system's requests, the scorecard, shutdown notes). */
  print: (line: string) => void;
  /** Between two scorecard lines; 0 prints one only on stop. */
  scorecardEveryMs: number;
  /** Ms after start at which the AI agent's bad deploy to checkout ships (default 60 s). */
  aiIncidentAfterMs?: number;
  /** How that deploy breaks checkout (the simulator's default when left out). */
  aiIncidentEffect?: Partial<ChangeEffect>;
  /** How long an alert's series must be normal again before it resolves (default DEMO_RESOLVE_AFTER_MS). */
  resolveAfterMs?: number;
  /** Environment overrides of the service's configuration (e.g. `PORT`, `LOG_LEVEL`). */
  env?: Record<string, string>;
  /** More YAML for the service's configuration file (e.g. an `auth:` block); must not repeat its keys. */
  extraConfigYaml?: string;
  /** The service's logger (default: `createLogger` at the configured level, readable on a terminal, JSON when piped). */
  log?: Logger;
}

/** A running demo. */
export interface DemoStack {
  kafka: MockKafka;
  service: RunningService;
  simulator: LiveSimulator;
  cd: DemoCdSystem;
  scorecard: DemoScorecard;
  config: Config;
  /** The folder under the OS temp dir holding everything the demo writes (config, database, checkpoints). */
  tempDir: string;
  /** Stops everything in order, each step bounded, and removes `tempDir`; calling it again returns the same promise. */
  stop(): Promise<void>;
  /** The last resort of a second Ctrl-C: removes `tempDir` at once, leaving the rest to process exit (which kills the broker). */
  removeTempDir(): void;
}

/** Starts the broker, the CD stand-in, the service, the scorecard and the simulator, in that order. */
export async function startDemo(options: DemoOptions): Promise<DemoStack> {
  const { print } = options;
  const tempDir = mkdtempSync(path.join(tmpdir(), 'changewatch-demo-'));
  const removeTempDir = (): void => rmSync(tempDir, { recursive: true, force: true });
  // What is started so far, stopped if a later step fails (so a failed start leaves nothing behind).
  let kafka: MockKafka | undefined;
  let cd: DemoCdSystem | undefined;
  let service: RunningService | undefined;
  let scorecard: DemoScorecard | undefined;
  let simulator: LiveSimulator | undefined;
  const stopAll = async (): Promise<void> => {
    scorecard?.stop();
    if (service) await within(service.stop(), STOP_TIMEOUT_MS.service, 'the changewatch service', print);
    if (simulator) await within(simulator.stop(), STOP_TIMEOUT_MS.simulator, "the simulator's producer", print);
    if (cd) await within(cd.stop(), STOP_TIMEOUT_MS.cd, 'the demo CD system', print);
    await kafka?.stop();
    removeTempDir();
  };
  try {
    kafka = await startMockKafka({ ownProcessGroup: true });
    // Rollbacks are proposed on the dashboard; approved ones go to the stand-in CD system, which rolls the simulated service back.
    cd = await startDemoCdSystem(print);
    const configFile = path.join(tempDir, 'changewatch.yaml');
    writeFileSync(
      configFile,
      [
        'rollback:',
        '  mode: require-approval',
        '  webhook: { url: ${DEMO_CD_URL}, secret: ${DEMO_CD_SECRET} }',
        'pipeline:',
        `  resolveAfterMs: ${options.resolveAfterMs ?? DEMO_RESOLVE_AFTER_MS}`,
        options.extraConfigYaml ?? '',
      ].join('\n'),
    );
    const config = loadConfig({
      file: configFile,
      env: {
        ...process.env,
        KAFKA_BROKERS: kafka.brokers,
        CHANGEWATCH_DATA_DIR: tempDir,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        DEMO_CD_URL: cd.url,
        DEMO_CD_SECRET: cd.secret,
        ...options.env,
      },
    });
    const log = options.log ?? createLogger(config.log.level);
    service = await startService(config, log);
    // Watches alerts as the dashboard does and scores them against what the simulator injected.
    scorecard = startDemoScorecard({ url: service.url, print, everyMs: options.scorecardEveryMs });
    simulator = await startLiveSimulator({
      brokers: config.kafka.brokers,
      topics: config.kafka.topics,
      log,
      seed: options.seed,
      historyMinutes: options.historyMinutes,
      incidentEveryMinutes: options.incidentEveryMinutes,
      aiIncidentAfterMs: options.aiIncidentAfterMs ?? 60_000,
      ...(options.aiIncidentEffect ? { aiIncidentEffect: options.aiIncidentEffect } : {}),
      onIncident: scorecard.record,
    });
    cd.attach(simulator);
    let stopping: Promise<void> | undefined;
    return { kafka, service, simulator, cd, scorecard, config, tempDir, stop: () => (stopping ??= stopAll()), removeTempDir };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/** Waits for `stopping` at most `timeoutMs`; says so and moves on when it takes longer or fails. */
async function within(stopping: Promise<unknown>, timeoutMs: number, what: string, print: (line: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    stopping.then(
      () => 'stopped',
      (err: unknown) => `failed to stop cleanly (${err instanceof Error ? err.message : String(err)})`,
    ),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`did not stop within ${timeoutMs / 1000} s; moving on`), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'stopped') print(`demo: ${what} ${outcome}`);
}
