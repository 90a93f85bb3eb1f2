/**
 * The guarded-rollback scenario shared by end-to-end tests on the real mock broker: a local HTTP
 * server standing in for the CD system, changewatch started with `rollback.mode` sending to it and
 * API tokens, and the incident itself — an AI agent's deploy (chg-ai-1, v2.3.9 → v2.4.0) that breaks
 * only the instances running its version.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChangeEvent, TelemetryPoint } from '../../contract/events.ts';
import { generateWebhookSecret } from '../../server/alerts/notifiers/standard-webhooks.ts';
import { loadConfig } from '../../server/config.ts';
import { hashToken, type Role } from '../../server/http/auth.ts';
import { createLogger } from '../../server/log.ts';
import { startService, type RunningService } from '../../server/service.ts';
import { aChange } from './factories.ts';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from './http-receiver.ts';
import { connectedProducer, eventually, topicEnv, uniqueTopics } from './kafka-helpers.ts';

/** Event-time step between telemetry points of the scenario. */
export const STEP_MS = 10_000;

/** A request the CD receiver got. */
export type Received = ReceivedRequest;

/** A running stand-in for the CD system's rollback endpoint (`url` is its `/rollback` path); every request is answered 202. */
export type CdReceiver = HttpReceiver;

/** Starts a local HTTP server standing in for the CD system's rollback endpoint. */
export async function startCdReceiver(): Promise<CdReceiver> {
  const receiver = await startHttpReceiver();
  return { ...receiver, url: `${receiver.url}/rollback` };
}

/** An API token the service is configured with. */
export interface TestToken {
  name: string;
  role: Role;
  token: string;
}

/** A service started by {@link startWithRollback}: the caller stops it. */
export interface RollbackService {
  service: RunningService;
  topics: ReturnType<typeof uniqueTopics>;
  /** The rollback webhook's signing secret (for `verifyWebhook`). */
  secret: string;
}

/**
 * Starts changewatch from a YAML file with `rollback.mode: mode` sending to `cdUrl`, the given API
 * tokens, its own topics on `brokers` and its own data dir; resolves once its consumer is in its group.
 */
export async function startWithRollback(options: {
  brokers: string;
  mode: 'require-approval' | 'automatic';
  cdUrl: string;
  tokens: readonly TestToken[];
  /** `rollback.when.minConfidence` (default 0.5). */
  minConfidence?: number;
}): Promise<RollbackService> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cw-rollback-'));
  const file = path.join(dir, 'changewatch.yaml');
  const tokens = options.tokens.map((token) => `    - { name: ${token.name}, role: ${token.role}, sha256: "${hashToken(token.token)}" }`).join('\n');
  // Thresholds at 0.5 keep the tests about the wiring, not about how sure attribution gets on 25 points.
  writeFileSync(
    file,
    `pipeline: { resolveAfterMs: 60000 }
incidents: { groupWaitMs: 500, flapWindowMs: 0 }
rollback:
  mode: ${options.mode}
  webhook: { url: \${CD_URL}, secret: \${ROLLBACK_SECRET} }
  when: { minConfidence: ${options.minConfidence ?? 0.5}, authorTypes: [ai_agent] }
freeze: { minConfidence: 0.5 }
auth:
  tokens:
${tokens}
`,
  );
  const topics = uniqueTopics('rb');
  const secret = generateWebhookSecret();
  const env = { ...topicEnv(topics, options.brokers), PORT: '0', CHANGEWATCH_DATA_DIR: path.join(dir, 'data'), CD_URL: options.cdUrl, ROLLBACK_SECRET: secret };
  const service = await startService(loadConfig({ file, env }), createLogger('silent'));
  try {
    await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
  } catch (error) {
    await service.stop();
    throw error;
  }
  return { service, topics, secret };
}

/**
 * checkout's error rate, one point per running version per step: v2.3.9 alone for `normal` steps,
 * then v2.4.0 takes half the traffic and, two steps later, fails 15% of its requests while v2.3.9
 * stays at 1%.
 */
export function rolloutErrorRates(start: number, normal = 200, after = 25): TelemetryPoint[] {
  const noise = [0.02, -0.01, 0.03, -0.025, 0.0, 0.015, -0.02, 0.01];
  const points: TelemetryPoint[] = [];
  for (let i = 0; i < normal + after; i++) {
    const timestamp = start + i * STEP_MS;
    const wobble = 1 + noise[i % noise.length]!;
    if (i < normal) {
      points.push({ service: 'checkout', metric: 'error_rate', value: 0.01 * wobble, count: 1000, timestamp, tags: { version: 'v2.3.9' } });
      continue;
    }
    points.push({ service: 'checkout', metric: 'error_rate', value: 0.01 * wobble, count: 500, timestamp, tags: { version: 'v2.3.9' } });
    points.push({ service: 'checkout', metric: 'error_rate', value: (i >= normal + 2 ? 0.15 : 0.01) * wobble, count: 500, timestamp, tags: { version: 'v2.4.0' } });
  }
  return points;
}

/**
 * Produces the AI agent's deploy chg-ai-1 (first, so it is known when the anomaly opens) and then the
 * telemetry of {@link rolloutErrorRates}. Resolves with the function that disconnects its producer.
 */
export async function playIncident(brokers: string, service: RunningService, topics: ReturnType<typeof uniqueTopics>): Promise<() => Promise<void>> {
  const kafka = await connectedProducer(brokers);
  const disconnect = () => kafka.disconnect();
  try {
    const start = Date.now() - 3_000_000;
    const deploy = aChange({ id: 'chg-ai-1', timestamp: start + 199 * STEP_MS });
    await kafka.send({ topic: topics.changes, messages: [{ key: 'checkout', value: JSON.stringify(deploy) }] });
    await eventually(() => service.core.recentChanges().length === 1, 15_000, 'the deploy to be consumed');
    const points = rolloutErrorRates(start);
    await kafka.send({ topic: topics.telemetry, messages: points.map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
  } catch (error) {
    await disconnect();
    throw error;
  }
  return disconnect;
}

/** The shape of a {@link versionRollout}: when the deploy lands, how long its version stays healthy, how bad it gets. */
export interface RolloutShape {
  /** Event time of the first point. */
  start: number;
  stepMs: number;
  /** Steps of v2.3.9 alone; the deploy chg-ai-1 (v2.3.9 → v2.4.0) lands at the last of them. */
  normal: number;
  /** Steps after those, each with one point per version (half the traffic each). */
  after: number;
  /** How long after the deploy v2.4.0 starts failing. */
  badAfterMs: number;
  /** v2.4.0's error rate from then on, as a multiple of v2.3.9's 1 %. */
  factor: number;
  /** Whether points carry request counts (attribution runs a proportion test) or only rates (a rank test). */
  counts: boolean;
}

/**
 * checkout's error rate around the AI agent's deploy chg-ai-1, one point per running version per
 * step, with the same deterministic wobble as {@link rolloutErrorRates}; returns the deploy too.
 */
export function versionRollout(shape: RolloutShape): { deploy: ChangeEvent; points: TelemetryPoint[] } {
  const noise = [0.02, -0.01, 0.03, -0.025, 0.0, 0.015, -0.02, 0.01];
  const deployAt = shape.start + (shape.normal - 1) * shape.stepMs;
  const counted = (count: number) => (shape.counts ? { count } : {});
  const points: TelemetryPoint[] = [];
  for (let i = 0; i < shape.normal + shape.after; i++) {
    const timestamp = shape.start + i * shape.stepMs;
    const wobble = 1 + noise[i % noise.length]!;
    if (i < shape.normal) {
      points.push({ service: 'checkout', metric: 'error_rate', value: 0.01 * wobble, ...counted(1000), timestamp, tags: { version: 'v2.3.9' } });
      continue;
    }
    const factor = timestamp - deployAt >= shape.badAfterMs ? shape.factor : 1;
    points.push({ service: 'checkout', metric: 'error_rate', value: 0.01 * wobble, ...counted(500), timestamp, tags: { version: 'v2.3.9' } });
    points.push({ service: 'checkout', metric: 'error_rate', value: 0.01 * factor * wobble, ...counted(500), timestamp, tags: { version: 'v2.4.0' } });
  }
  return { deploy: aChange({ id: 'chg-ai-1', timestamp: deployAt }), points };
}
