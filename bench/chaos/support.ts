/**
 * What the chaos scenarios share: the service under test as a child process (its config, a data dir,
 * its RSS, its API), a local webhook and PagerDuty receiver that can go down, a light reader of a
 * topic, the end offsets of topics, and a feed of telemetry with step anomalies and the alert ids a
 * clean replay of it produces (the reference every lost-alert check compares with).
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Consumer, KafkaMessage, Producer } from 'kafkajs';
import { testKafka, type TestTopics as RunTopics } from '../../test/support/kafka-helpers.ts';
import type { ChangeEvent, TelemetryPoint } from '../../contract/events.ts';
import { hashToken } from '../../server/http/auth.ts';
import { replayRecords } from '../../server/pipeline/replay.ts';
import { Store } from '../../server/store/store.ts';
import type { ReplayRecord } from '../../server/wire/schemas.ts';
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from '../../tooling/dev/service-process.ts';

/** The operator token every service under test is configured with (see `serviceConfig`). */
export const OPERATOR_TOKEN = 'cw_chaos-operator-token-0123456789';

/** Headers of a request made as the operator. */
export const AS_OPERATOR = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' } as const;

/** A short id unique to one scenario run: in topic, group, service and endpoint names. */
export function runId(label: string): string {
  return `chaos-${label}-${randomUUID().slice(0, 8)}`;
}

/** Topic names and consumer group of one run, the topics of run `id`, and the environment pointing changewatch at them: the tests' own. */
export { topicEnv as topicEnvironment, topicsFor as runTopics, type TestTopics as RunTopics } from '../../test/support/kafka-helpers.ts';

/**
 * Writes the YAML of a service under test and returns its path. YAML is a superset of JSON, so the
 * file is the JSON of `settings` plus the operator token: secrets stay `${VAR}` references, as the
 * config loader requires, and come from the process environment.
 */
export function serviceConfig(dir: string, settings: Record<string, unknown>): string {
  const file = path.join(dir, 'changewatch.yaml');
  const auth = { tokens: [{ name: 'chaos-operator', role: 'operator', sha256: hashToken(OPERATOR_TOKEN) }] };
  writeFileSync(file, JSON.stringify({ publicUrl: 'http://changewatch.chaos.test', ...settings, auth }, null, 2));
  return file;
}

/** The `notify:` entries of a service paging a `HookReceiver`: PagerDuty at `/pd`, a signed webhook at `/hook`. */
export function receiverNotify(id: string): { notify: unknown[]; env: (receiverUrl: string) => Record<string, string> } {
  return {
    notify: [
      { name: `pd-${id}`, type: 'pagerduty', url: '${CHAOS_PD_URL}', routingKey: '${CHAOS_PD_ROUTING_KEY}', timeoutMs: 2_000 },
      { name: `hook-${id}`, type: 'webhook', url: '${CHAOS_HOOK_URL}', secret: '${CHAOS_HOOK_SECRET}', timeoutMs: 2_000 },
    ],
    env: (receiverUrl) => ({
      CHAOS_PD_URL: `${receiverUrl}/pd`,
      CHAOS_PD_ROUTING_KEY: 'R0UT1NGKEYCHAOS00000000000000000',
      CHAOS_HOOK_URL: `${receiverUrl}/hook`,
      CHAOS_HOOK_SECRET: `whsec_${Buffer.from('changewatch-chaos-webhook-secret').toString('base64')}`,
    }),
  };
}

let template: Promise<string> | undefined;
/** Data dirs made by this process, removed when it exits. */
const madeDirs: string[] = [];

/**
 * A fresh data dir for one service. The embedded database takes many seconds to initialize on a
 * busy machine, so one is initialized (and migrated) once per process and copied for each service.
 * Every dir made here is removed when the process exits.
 */
export async function freshDataDir(label: string): Promise<string> {
  template ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cw-chaos-template-'));
    madeDirs.push(dir);
    process.once('exit', () => {
      for (const made of madeDirs) rmSync(made, { recursive: true, force: true });
    });
    const store = await Store.open({ dataDir: path.join(dir, 'db') });
    await store.close();
    return dir;
  })();
  const source = await template;
  const dir = mkdtempSync(path.join(tmpdir(), `cw-chaos-${label}-`));
  madeDirs.push(dir);
  cpSync(source, dir, { recursive: true });
  return dir;
}

/** `/api/v1/status` of a service. */
export interface ServiceStatus {
  stats: { eventsProcessed: number; deadLettered: number; alertsFiring: number; alertsAcknowledged: number; kafkaConnected: boolean };
  series: number;
  consumedOffsets: Record<string, string>;
}

/** Most error lines of the service's log kept for the report. */
const KEPT_ERROR_LINES = 3;

/** A pino line as `message (error)`, at most 200 characters. */
function summarizeLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: string | { message?: string } };
    const err = typeof entry.err === 'string' ? entry.err : entry.err?.message;
    return `${entry.msg ?? ''}${err ? ` (${err})` : ''}`.slice(0, 200);
  } catch {
    return line.slice(0, 200);
  }
}

/** A changewatch child process: its API, its RSS, and whether it died on its own. */
export class ChaosService {
  /** Error-level log lines seen (fatal included). */
  errorLines = 0;
  /** The first of those lines, summarized. */
  readonly firstErrors: string[] = [];
  /** Set when the process exited without being asked to (a crash). */
  crashed: string | undefined;
  private stopping = false;

  private constructor(
    private readonly process: ServiceProcess,
    readonly startedInMs: number,
  ) {
    const onLog = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.includes('"level":50') && !line.includes('"level":60')) continue;
        this.errorLines++;
        if (this.firstErrors.length < KEPT_ERROR_LINES) this.firstErrors.push(summarizeLogLine(line));
      }
    };
    process.child.stdout!.on('data', onLog);
    process.child.stderr!.on('data', onLog);
    process.child.once('exit', (code, signal) => {
      if (!this.stopping) this.crashed = `exited with code ${code} signal ${signal}`;
    });
  }

  /** Starts `server/main.ts` with `env` and resolves once it serves HTTP (not yet once it has joined its group). */
  static async start(env: Record<string, string>): Promise<ChaosService> {
    const started = Date.now();
    const process = await startServiceProcess(env, 120_000);
    return new ChaosService(process, Date.now() - started);
  }

  /** Base URL of its HTTP server. */
  get url(): string {
    return this.process.url;
  }

  /** Its process id. */
  get pid(): number {
    return this.process.child.pid!;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  /** Resident set size of the process now, bytes (Linux: /proc/<pid>/status). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    if (!match) throw new Error(`no VmRSS in /proc/${this.pid}/status`);
    return Number(match[1]) * 1024;
  }

  /** SIGKILL, as a crash or an OOM killer would; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.stopping = true;
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.process.child.once('exit', resolve));
    this.process.child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM (a graceful stop with a final checkpoint), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    await stopServiceProcess(this.process, 15_000);
  }

  /** `/api/v1/status`, or `undefined` when the service does not answer. */
  async status(): Promise<ServiceStatus | undefined> {
    try {
      const response = await fetch(`${this.url}/api/v1/status`, { signal: AbortSignal.timeout(5_000) });
      return response.ok ? ((await response.json()) as ServiceStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The status of `/readyz`, or 0 when it does not answer within 2 s. */
  async readyz(): Promise<number> {
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** GET of an API path as JSON (reads are anonymous), or `undefined` when it fails. */
  async get<T>(apiPath: string): Promise<T | undefined> {
    try {
      const response = await fetch(`${this.url}${apiPath}`, { signal: AbortSignal.timeout(10_000) });
      return response.ok ? ((await response.json()) as T) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until `/readyz` answers 200 (the consumer joined its group); returns how long it took, or -1 on timeout. */
  async untilReady(timeoutMs: number): Promise<number> {
    const started = Date.now();
    return (await waitFor(async () => (await this.readyz()) === 200, timeoutMs)) ? Date.now() - started : -1;
  }
}

/** Polls `condition` every `everyMs` until it holds (true) or `timeoutMs` passes (false). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A connected producer (default partitioner: one key, one partition, like real producers); the tests' own. */
export { connectedProducer as connectProducer } from '../../test/support/kafka-helpers.ts';

/** End offsets (`high`) of every partition of `topics`, keyed `topic:partition` like the service's consumedOffsets. */
export async function topicEnds(brokers: string, topics: readonly string[]): Promise<Record<string, string>> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const ends: Record<string, string> = {};
    for (const topic of topics) {
      for (const { partition, high } of await admin.fetchTopicOffsets(topic).catch(() => [])) ends[`${topic}:${partition}`] = high;
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** Whether the service has absorbed every message up to `ends` (partitions never written to count as done). */
export function caughtUp(consumed: Record<string, string>, ends: Record<string, string>): boolean {
  return Object.entries(ends).every(([key, high]) => high === '0' || consumed[key] === high);
}

/** Reads a topic from its beginning, handing each message to `onMessage`; keeps nothing itself. */
export class TopicTap {
  /** Messages read so far. */
  count = 0;

  private constructor(private readonly consumer: Consumer) {}

  /** Starts reading and resolves once the reader has joined its group. */
  static async start(brokers: string, topic: string, onMessage: (message: KafkaMessage, partition: number) => void): Promise<TopicTap> {
    const consumer = testKafka(brokers).consumer({ groupId: `chaos-tap-${randomUUID()}`, maxWaitTimeInMs: 50 });
    const tap = new TopicTap(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          tap.count++;
          onMessage(message, batch.partition);
        }
      },
    });
    await joined;
    return tap;
  }

  /** Stops reading. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Reads a service's alerts topic: the latest status of every alert id, and how many messages each had. */
export class AlertsTap {
  /** Alert id → latest status read. */
  readonly statuses = new Map<string, string>();
  private tap: TopicTap | undefined;

  /** Starts reading `topic` from its beginning. */
  static async start(brokers: string, topic: string): Promise<AlertsTap> {
    const reader = new AlertsTap();
    reader.tap = await TopicTap.start(brokers, topic, (message) => {
      const alert = JSON.parse(message.value!.toString('utf8')) as { id: string; status: string };
      reader.statuses.set(alert.id, alert.status);
    });
    return reader;
  }

  /** Messages read. */
  get messages(): number {
    return this.tap?.count ?? 0;
  }

  /** The ids of `expected` not read (yet). */
  missing(expected: Iterable<string>): string[] {
    return [...expected].filter((id) => !this.statuses.has(id));
  }

  /** Stops reading. */
  async stop(): Promise<void> {
    await this.tap?.stop();
  }
}

/** One request a `HookReceiver` answered 2xx. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A PagerDuty event as received. */
export interface PagerDutyEvent {
  dedupKey: string;
  action: string;
  at: number;
}

/** A Standard Webhooks delivery as received. */
export interface WebhookDelivery {
  /** `webhook-id`: the idempotency key, the same on every retry of one notification. */
  id: string;
  type: string;
  incidentId: string;
  at: number;
}

/** A local receiver standing in for PagerDuty (`/pd`) and a webhook consumer (`/hook`); it can go down and come back on the same port. */
export class HookReceiver {
  /** Every request answered, in arrival order. */
  readonly requests: ReceivedRequest[] = [];
  private server: Server;
  private port = 0;
  private down = false;

  private constructor() {
    this.server = this.createServer();
  }

  /** Starts listening on an ephemeral port of 127.0.0.1. */
  static async start(): Promise<HookReceiver> {
    const receiver = new HookReceiver();
    await receiver.listen();
    return receiver;
  }

  /** Base URL; the same after `goDown` and `comeBack`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether it refuses connections now. */
  get isDown(): boolean {
    return this.down;
  }

  /** Stops listening and closes every connection: senders get connection refused. */
  async goDown(): Promise<void> {
    this.down = true;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Listens again on the same port. */
  async comeBack(): Promise<void> {
    this.server = this.createServer();
    await this.listen();
    this.down = false;
  }

  /** Stops for good. */
  async close(): Promise<void> {
    if (this.down) return;
    await this.goDown();
  }

  /** PagerDuty events received, in order. */
  pagerDuty(): PagerDutyEvent[] {
    return this.requests
      .filter((r) => r.path === '/pd')
      .map((r) => {
        const body = JSON.parse(r.body) as { dedup_key: string; event_action: string };
        return { dedupKey: body.dedup_key, action: body.event_action, at: r.at };
      });
  }

  /** Webhook deliveries received, in order. */
  webhooks(): WebhookDelivery[] {
    return this.requests
      .filter((r) => r.path === '/hook')
      .map((r) => {
        const body = JSON.parse(r.body) as { type: string; data: { incident: { id: string } } };
        return { id: String(r.headers['webhook-id']), type: body.type, incidentId: body.data.incident.id, at: r.at };
      });
  }

  private createServer(): Server {
    return createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success"}');
      });
    });
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}

/**
 * Checks the pages a receiver got against the incidents a service reports: each incident triggered
 * exactly once per endpoint (one `webhook-id` of `incident.triggered`, one PagerDuty trigger per
 * `dedup_key` once retries of the same `webhook-id` are set aside), resolved once when it resolved,
 * and in order (no trigger after a resolve); an incident nobody was told anything about is a breach
 * (and counted as `unpagedIncidents`). Returns one line per breach and the counts.
 */
export function checkPages(receiver: HookReceiver, incidents: ReadonlyArray<{ id: string; status: string }>): { failures: string[]; figures: Record<string, number> } {
  const failures: string[] = [];
  const hooks = receiver.webhooks();
  const pd = receiver.pagerDuty();
  // Retries of one notification carry one webhook-id: a receiver drops them; they are counted, not failures.
  const firstById = new Map<string, WebhookDelivery>();
  for (const hook of hooks) if (!firstById.has(hook.id)) firstById.set(hook.id, hook);
  const distinct = [...firstById.values()];
  const known = new Set(incidents.map((incident) => incident.id));
  let unpaged = 0;
  for (const incident of incidents) {
    const of = distinct.filter((hook) => hook.incidentId === incident.id);
    const events = pd.filter((event) => event.dedupKey === `changewatch/${incident.id}`).map((event) => event.action);
    if (of.length === 0 && events.length === 0) unpaged++;
    const triggers = of.filter((hook) => hook.type === 'incident.triggered').length;
    const resolves = of.filter((hook) => hook.type === 'incident.resolved').length;
    if (triggers !== 1) failures.push(`incident ${incident.id}: ${triggers} webhook triggers (distinct webhook-ids), expected 1`);
    if (incident.status === 'resolved' && resolves !== 1) failures.push(`incident ${incident.id}: resolved, but ${resolves} webhook resolves (distinct webhook-ids), expected 1`);
    if (!events.includes('trigger')) failures.push(`incident ${incident.id}: no PagerDuty trigger`);
    if (incident.status === 'resolved' && !events.includes('resolve')) failures.push(`incident ${incident.id}: resolved, but no PagerDuty resolve`);
    const firstResolve = events.indexOf('resolve');
    if (firstResolve >= 0 && events.slice(firstResolve).includes('trigger')) failures.push(`incident ${incident.id}: a PagerDuty trigger after its resolve (${events.join(',')}) would open a new PagerDuty incident`);
  }
  for (const hook of distinct) if (!known.has(hook.incidentId)) failures.push(`a webhook for unknown incident ${hook.incidentId}`);
  const pdTriggers = pd.filter((event) => event.action === 'trigger');
  return {
    failures,
    figures: {
      incidents: incidents.length,
      unpagedIncidents: unpaged,
      webhookDeliveries: hooks.length,
      webhookRedeliveries: hooks.length - distinct.length,
      pagerDutyEvents: pd.length,
      pagerDutyTriggers: pdTriggers.length,
      // PagerDuty folds a repeated trigger of one dedup_key into the open incident: a retry, not a second page.
      pagerDutyRepeatedTriggers: pdTriggers.length - new Set(pdTriggers.map((event) => event.dedupKey)).size,
    },
  };
}

/** One record of a feed, with the topic kind it goes to. */
export type FeedRecord = { kind: 'metric'; point: TelemetryPoint } | { kind: 'change'; change: ChangeEvent };

/** A feed with step anomalies and what a clean replay of it produces. */
export interface IncidentFeed {
  /** In event-time order. */
  records: FeedRecord[];
  /** Services that step up (one change each, just before the step), in onset order. */
  anomalous: string[];
  /** Alert ids a clean, uninterrupted replay of `records` emits: none may be missing from the alerts topic. */
  expectedAlertIds: Set<string>;
}

/** The shape of an incident feed; steps are 10 s of event time apart. */
export interface IncidentFeedOptions {
  /** Prefix of the service names (unique per run). */
  prefix: string;
  /** Services that step to 5× their level for 15 steps, one after the other. */
  anomalous: number;
  /** Services that only report normal values. */
  quiet: number;
  /** Steps between two anomalies' onsets. */
  gapSteps: number;
  /** Normal steps after the last anomaly ends (the alerts resolve after 30 of them). */
  recoverySteps: number;
  /** Event time of the first step. */
  start: number;
  /** Pipeline options of the service under test, for the reference replay. */
  pipeline?: Record<string, unknown>;
}

/** Normal steps before the first onset: the detectors' warm-up. */
const WARM_STEPS = 200;
/** Anomalous steps of each anomaly. */
const ANOMALY_STEPS = 15;
const STEP_MS = 10_000;
/** The deterministic noise of every series (as test/support/factories.ts stepSeries). */
const NOISE = [0.02, -0.01, 0.03, -0.025, 0.0, 0.015, -0.02, 0.01];

/** Builds a feed: every service reports latency_p99 each step; anomalous service i steps at WARM + i·gap. */
export function incidentFeed(options: IncidentFeedOptions): IncidentFeed {
  const { prefix, anomalous, quiet, gapSteps, recoverySteps, start } = options;
  const steps = WARM_STEPS + Math.max(0, anomalous - 1) * gapSteps + ANOMALY_STEPS + recoverySteps;
  const services = [...Array.from({ length: anomalous }, (_, i) => `${prefix}-hot-${i}`), ...Array.from({ length: quiet }, (_, i) => `${prefix}-calm-${i}`)];
  const records: FeedRecord[] = [];
  for (let step = 0; step < steps; step++) {
    const timestamp = start + step * STEP_MS;
    services.forEach((service, i) => {
      const onset = i < anomalous ? WARM_STEPS + i * gapSteps : Number.POSITIVE_INFINITY;
      if (step === onset - 2) {
        records.push({
          kind: 'change',
          change: {
            id: `${service}-deploy`,
            type: 'deploy',
            service,
            environment: 'prod',
            timestamp,
            version: 'v2',
            previousVersion: 'v1',
            author: { type: 'human', name: 'chaos' },
            summary: `deploy of ${service}`,
          },
        });
      }
      const level = step >= onset && step < onset + ANOMALY_STEPS ? 500 : 100;
      records.push({ kind: 'metric', point: { service, metric: 'latency_p99', value: level * (1 + NOISE[(step + i) % NOISE.length]!), timestamp } });
    });
  }
  const replay: ReplayRecord[] = records.map((record) => (record.kind === 'metric' ? { metric: record.point } : { change: record.change }));
  const expectedAlertIds = new Set(replayRecords(replay, { pipeline: options.pipeline ?? {} }).map((alert) => alert.id));
  return { records, anomalous: services.slice(0, anomalous), expectedAlertIds };
}

/** Produces feed records: points to the telemetry topic and changes to the changes topic, keyed by service. */
export async function sendRecords(producer: Producer, topics: RunTopics, records: readonly FeedRecord[]): Promise<void> {
  const points = records.flatMap((record) => (record.kind === 'metric' ? [{ key: record.point.service, value: JSON.stringify(record.point) }] : []));
  const changes = records.flatMap((record) => (record.kind === 'change' ? [{ key: record.change.service, value: JSON.stringify(record.change) }] : []));
  // Changes first: a change and the step it causes are on different topics, with no order between them.
  if (changes.length) await producer.send({ topic: topics.changes, messages: changes });
  for (let i = 0; i < points.length; i += 5_000) await producer.send({ topic: topics.telemetry, messages: points.slice(i, i + 5_000) });
}

/**
 * Produces `records` evenly over `durationMs` of wall time (one request every `tickMs`), like a live
 * fleet reporting.
 */
export async function feedOverTime(producer: Producer, topics: RunTopics, records: readonly FeedRecord[], durationMs: number, tickMs = 250): Promise<void> {
  const ticks = Math.max(1, Math.round(durationMs / tickMs));
  const started = Date.now();
  let sent = 0;
  for (let tick = 1; tick <= ticks; tick++) {
    const upTo = Math.round((records.length * tick) / ticks);
    await sendRecords(producer, topics, records.slice(sent, upTo));
    sent = upTo;
    const wait = started + tick * tickMs - Date.now();
    if (wait > 0) await sleep(wait);
  }
}

/** Bytes as megabytes, one decimal. */
export function mb(bytes: number): number {
  return Math.round((bytes / 1_048_576) * 10) / 10;
}

/** The incidents a service holds for services named `prefix…` (scenarios share nothing else), or `undefined` when it does not answer. */
export async function runIncidents(service: ChaosService, prefix: string): Promise<Array<{ id: string; status: string; service: string }> | undefined> {
  const body = await service.get<{ incidents: Array<{ id: string; status: string; service: string }> }>('/api/v1/incidents?limit=1000');
  return body?.incidents.filter((incident) => incident.service.startsWith(prefix));
}

/** The service's error-log figures, summed over every process of a scenario (a restarted service is a new process). */
export function errorFigures(services: readonly ChaosService[]): { errorLogLines: number; firstErrorLines: string[] } {
  return { errorLogLines: services.reduce((sum, s) => sum + s.errorLines, 0), firstErrorLines: services.flatMap((s) => s.firstErrors).slice(0, KEPT_ERROR_LINES) };
}
