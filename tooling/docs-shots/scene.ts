/**
 * The scene of the documentation's screenshots: the real changewatch service (`startService`: store,
 * pipeline, core, alert router, guarded automation, HTTP app and socket gateway) on a random port,
 * beside librdkafka's mock Kafka cluster and the demo's stand-in CD system, fed two hours of a
 * simulated fleet with a fixed seed and fixed event times: a quiet history, then an AI agent's deploy
 * that breaks checkout's new version (per-version telemetry, a pending rollback, an AI-change freeze)
 * and a person's config change that slows the mobile back end.
 *
 * The records go to the core in event-time order, in-process (as the Kafka edge hands them over),
 * rather than through the broker: partitions are consumed in no fixed order, and the same records
 * must give the same alerts on every run. The broker is there so the service runs as it does in
 * production (consumer in its group, Kafka connected on the dashboard).
 *
 * Wall-clock stamps (incidents, rollback deadlines, change failure rates' window) come from
 * `Date.now`, which the caller sets to run from {@link SCENE_END} (tooling/docs-shots/shifted-clock.ts),
 * so they agree with the simulated event times.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RollbackView } from '../../contract/automation.ts';
import type { DeadLetter } from '../../server/core.ts';
import type { ChangewatchError } from '../../server/errors.ts';
import { loadConfig } from '../../server/config.ts';
import { hashToken } from '../../server/http/auth.ts';
import { createLogger } from '../../server/log.ts';
import { startService, type RunningService } from '../../server/service.ts';
import { startDemoCdSystem, type DemoCdSystem } from '../dev/demo-cd-system.ts';
import { startMockKafka, type MockKafka } from '../dev/mock-kafka.ts';
import { FleetSimulator, type FleetRecord } from '../sim/fleet.ts';

const MINUTE = 60_000;

/** Seed of every random choice of the fleet. */
export const SCENE_SEED = 7;
/** Event time of the first simulated point: a Tuesday morning. */
export const SCENE_START = Date.UTC(2026, 2, 10, 7, 0);
/** When the AI agent's deploy to checkout ships, after two quiet hours. */
export const AI_DEPLOY_AT = SCENE_START + 120 * MINUTE;
/** When the person's config change to mobile-bff ships. */
export const CONFIG_CHANGE_AT = AI_DEPLOY_AT + 5 * MINUTE;
/** Event time of the last simulated point; the dashboard's "now" in the pictures is a little after it. */
export const SCENE_END = AI_DEPLOY_AT + 14 * MINUTE;

/** A running scene. */
export interface Scene {
  service: RunningService;
  /** An operator's API token, made up for this run (the service knows only its hash). */
  operatorToken: string;
  /** Id of the alert on checkout's error rate that names the AI agent's deploy. */
  aiAlertId: string;
  /** Id of the AI agent's deploy. */
  aiChangeId: string;
  /** The rollback of that deploy awaiting approval. */
  pendingRollback: RollbackView;
  stop(): Promise<void>;
}

/** Starts the broker, the CD stand-in and the service, plays the fleet into it and waits for the rollback proposal. */
export async function startScene(): Promise<Scene> {
  const tempDir = mkdtempSync(path.join(tmpdir(), 'changewatch-docs-shots-'));
  let kafka: MockKafka | undefined;
  let cd: DemoCdSystem | undefined;
  let service: RunningService | undefined;
  const stop = async (): Promise<void> => {
    await service?.stop();
    await cd?.stop();
    await kafka?.stop();
    rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    kafka = await startMockKafka();
    // Nothing is approved while the pictures are taken; the webhook is there so the rollback panel shows an approval can be sent.
    cd = await startDemoCdSystem(() => undefined);
    const operatorToken = `cw_docs-operator-${randomBytes(16).toString('hex')}`;
    const configFile = path.join(tempDir, 'changewatch.yaml');
    writeFileSync(
      configFile,
      [
        'rollback:',
        '  mode: require-approval',
        '  webhook: { url: ${DOCS_CD_URL}, secret: ${DOCS_CD_SECRET} }',
        'auth:',
        '  anonymousRead: true',
        '  tokens:',
        `    - { name: docs-operator, role: operator, sha256: "${hashToken(operatorToken)}" }`,
        '',
      ].join('\n'),
    );
    // Only what the scene sets: a developer's DATABASE_URL or KAFKA_BROKERS must not be written to.
    const config = loadConfig({
      file: configFile,
      env: { KAFKA_BROKERS: kafka.brokers, CHANGEWATCH_DATA_DIR: path.join(tempDir, 'data'), PORT: '0', LOG_LEVEL: 'warn', DOCS_CD_URL: cd.url, DOCS_CD_SECRET: cd.secret },
    });
    service = await startService(config, createLogger('warn'));
    await until(() => service!.ingest.ready, 20_000, "the service's consumer to join its group");

    // A background change every 12 min rather than 6: fewer timeline lanes per chart, a page a reader can take in.
    const fleet = new FleetSimulator({ seed: SCENE_SEED, start: SCENE_START, meanChangeIntervalMs: 12 * MINUTE });
    const ai = fleet.injectChangeIncident({
      service: 'checkout',
      at: AI_DEPLOY_AT,
      type: 'deploy',
      authorType: 'ai_agent',
      effect: { metric: 'error_rate', delayMs: MINUTE, rampMs: MINUTE, magnitude: 0.3 },
      durationMs: 60 * MINUTE,
    });
    // On a front end, which no service calls: one more alert and incident, not a cascade.
    fleet.injectChangeIncident({
      service: 'mobile-bff',
      at: CONFIG_CHANGE_AT,
      type: 'config',
      authorType: 'human',
      effect: { metric: 'latency_p99', delayMs: 30_000, rampMs: 2 * MINUTE, magnitude: 1.6 },
      durationMs: 60 * MINUTE,
    });
    await play(service, fleet.advance(SCENE_END));

    const aiChangeId = ai.causeChangeId!;
    const core = service.core;
    const aiAlert = () =>
      core.alerts.list({ limit: 1_000 }).find((alert) => alert.service === 'checkout' && alert.metric === 'error_rate' && alert.suspects[0]?.changeId === aiChangeId);
    await until(() => aiAlert() !== undefined, 30_000, "an alert on checkout's error rate naming the AI agent's deploy");
    let pendingRollback: RollbackView | undefined;
    await until(
      async () => {
        await service!.alertRouter.idle();
        pendingRollback = (await service!.automation.snapshot()).rollbacks.find((rollback) => rollback.status === 'pending' && rollback.changeId === aiChangeId);
        return pendingRollback !== undefined;
      },
      30_000,
      "the rollback of the AI agent's deploy to be proposed",
    );
    return { service, operatorToken, aiAlertId: aiAlert()!.id, aiChangeId, pendingRollback: pendingRollback!, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Hands the records to the core in order, yielding now and then so the alert router and automation keep up as they would live. */
async function play(service: RunningService, records: readonly FleetRecord[]): Promise<void> {
  let index = 0;
  const deadLetterOf = (error: ChangewatchError): DeadLetter => ({ error, original: JSON.stringify(records[index]), source: { kind: 'http', index } });
  for (; index < records.length; index++) {
    service.core.handle(records[index]!, deadLetterOf);
    if (index % 2_000 === 1_999) await new Promise((resolve) => setImmediate(resolve));
  }
  await service.alertRouter.idle();
}

/** Polls `condition` every 200 ms until it holds; throws naming `what` after `timeoutMs`. */
async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
