/**
 * Drives the fleet simulator against a Kafka cluster in real time: backfills some history at once
 * (so detectors are warm), then produces every second. Used by `npm run demo` and `npm run simulate`;
 * in the demo, the stand-in CD system rolls services back through `rollBack`.
 */
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import type { ChangeAuthor, ChangeEvent } from '../../contract/events.ts';
import type { Config } from '../../server/config.ts';
import type { Logger } from '../../server/log.ts';
import { FleetSimulator, type ChangeEffect, type FleetRecord, type IncidentTruth } from '../sim/fleet.ts';

/** Ground truth of an incident the simulator injected, once it is live. */
export interface InjectedIncident extends IncidentTruth {
  /** Event time of the injection: the causing change's timestamp, or the start of a fault no change caused. */
  injectedAt: number;
}

/** Options of a live simulation. */
export interface LiveSimulatorOptions {
  brokers: readonly string[];
  topics: Config['kafka']['topics'];
  seed: number;
  /** Minutes of history produced at start. */
  historyMinutes: number;
  /** Mean minutes between injected incidents. */
  incidentEveryMinutes: number;
  /**
   * When set, an AI agent's deploy to checkout that breaks only its own version is shipped this
   * many ms after start, so a demo shows the whole guarded-rollback flow within minutes.
   */
  aiIncidentAfterMs?: number;
  /** How that deploy breaks checkout (default: errors +30 % of requests, a minute after the deploy, ramping over a minute). */
  aiIncidentEffect?: Partial<ChangeEffect>;
  /**
   * Called once per injected incident as it goes live: when the records carrying its causing change
   * are produced, or when a fault no change caused starts (the demo's scorecard keeps score with it).
   */
  onIncident?: (incident: InjectedIncident) => void;
  log: Logger;
}

/** A CD system's request to put a service back on an earlier version. */
export interface FleetRollbackRequest {
  service: string;
  /** The version being left; refused unless it still serves traffic. */
  fromVersion: string;
  toVersion: string;
  /** Who performs it (the change's author). */
  author: ChangeAuthor;
  summary: string;
}

/** The fleet cannot do the rollback asked for (unknown service or version, `fromVersion` not serving): nothing changed. */
export class RollbackRefused extends Error {
  override name = 'RollbackRefused';
}

/** What the live fleet offers a CD system: the in-process interface between the demo's CD stand-in and the simulator. */
export interface FleetDeployTarget {
  /**
   * Rolls the service back now: from the next tick only `toVersion` serves it, and a `rollback`
   * change is produced on the changes topic. Resolves with that change once it is produced; rejects
   * with RollbackRefused when the fleet cannot do it, and with another error when the change was not
   * produced in time (the fleet has switched versions all the same).
   */
  rollBack(request: FleetRollbackRequest): Promise<ChangeEvent>;
}

/** A running simulation. */
export interface LiveSimulator extends FleetDeployTarget {
  /** Records produced by the backfill. */
  backfilled: number;
  /** The versions of `service` serving traffic now (two while a deploy rolls out). */
  versionsServing(service: string): string[];
  stop(): Promise<void>;
}

/** How long a rollback may wait for its change to be produced before it is reported as failed. */
const ROLLBACK_PRODUCE_TIMEOUT_MS = 8_000;

/** Starts producing a simulated fleet's changes, catalog and telemetry. */
export async function startLiveSimulator(options: LiveSimulatorOptions): Promise<LiveSimulator> {
  const producer = new Kafka({ brokers: [...options.brokers], clientId: 'changewatch-simulator', logLevel: logLevel.NOTHING }).producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const now = Date.now();
  // The history is quiet (changes, no incidents): detectors calibrate against a series' own past, and a
  // backfill with an incident every few minutes would teach them that incidents are normal (docs/detectors.md).
  const fleet = new FleetSimulator({
    seed: options.seed,
    start: now - options.historyMinutes * 60_000,
    incidentEveryMs: options.incidentEveryMinutes * 60_000,
    incidentsFrom: now,
  });
  if (options.aiIncidentAfterMs !== undefined) {
    fleet.injectChangeIncident({
      service: 'checkout',
      at: now + options.aiIncidentAfterMs,
      type: 'deploy',
      authorType: 'ai_agent',
      effect: { metric: 'error_rate', delayMs: 60_000, rampMs: 60_000, magnitude: 0.3, ...options.aiIncidentEffect },
      durationMs: 20 * 60_000,
    });
  }
  const announcer = options.onIncident ? new IncidentAnnouncer(options.onIncident) : undefined;
  // Event time already handed out: a rollback on request is scheduled no earlier, so it is emitted in order.
  let advancedTo = now;
  const advance = (until: number): FleetRecord[] => {
    advancedTo = Math.max(advancedTo, until);
    const records = fleet.advance(advancedTo);
    announcer?.announce(fleet.incidents(), records, advancedTo);
    return records;
  };
  // Rollbacks waiting for their change to be produced, by change id.
  const waiting = new Map<string, { resolve: (change: ChangeEvent) => void; reject: (error: Error) => void }>();
  const backfill = advance(now);
  await produce(producer, options.topics, backfill);
  let busy = false;
  let stopped = false;
  const timer = setInterval(() => {
    // Skip a tick rather than pile up sends when the broker is slow.
    if (busy) return;
    busy = true;
    const records = advance(Date.now());
    produce(producer, options.topics, records)
      .then(() => {
        for (const record of records) if ('change' in record) waiting.get(record.change.id)?.resolve(record.change);
      })
      .catch((err: unknown) => {
        if (!stopped) options.log.error({ err }, 'simulator failed to produce');
      })
      .finally(() => (busy = false));
  }, 1_000);
  return {
    backfilled: backfill.length,
    versionsServing: (service) => fleet.versionsServing(service),
    rollBack: (request) => {
      if (stopped) return Promise.reject(new Error('the simulator is stopping'));
      const serving = fleet.versionsServing(request.service);
      if (serving.length > 0 && !serving.includes(request.fromVersion)) {
        return Promise.reject(new RollbackRefused(`${request.service} no longer runs ${request.fromVersion} (it runs ${serving.join(' and ')})`));
      }
      let changeId: string;
      try {
        changeId = fleet.rollBack({ service: request.service, toVersion: request.toVersion, at: Math.max(Date.now(), advancedTo), author: request.author, summary: request.summary });
      } catch (err) {
        return Promise.reject(new RollbackRefused((err as Error).message));
      }
      return new Promise<ChangeEvent>((resolve, reject) => {
        const timeout = setTimeout(() => settle(() => reject(new Error(`the rollback change ${changeId} was not produced within ${ROLLBACK_PRODUCE_TIMEOUT_MS / 1000} s`))), ROLLBACK_PRODUCE_TIMEOUT_MS);
        const settle = (done: () => void): void => {
          clearTimeout(timeout);
          waiting.delete(changeId);
          done();
        };
        waiting.set(changeId, { resolve: (change) => settle(() => resolve(change)), reject: (error) => settle(() => reject(error)) });
      });
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      for (const { reject } of [...waiting.values()]) reject(new Error('the simulator stopped'));
      await producer.disconnect();
    },
  };
}

/**
 * Tells which of the fleet's incidents went live in a batch of records: a change-caused one when its
 * change is among them, any other when its fault has started by the batch's end. Each is told once.
 */
export class IncidentAnnouncer {
  private readonly told = new Set<string>();

  constructor(private readonly tell: (incident: InjectedIncident) => void) {}

  /** `truths` is every incident so far (`fleet.incidents()`), `records` what `fleet.advance(until)` returned. */
  announce(truths: readonly IncidentTruth[], records: readonly FleetRecord[], until: number): void {
    let shipped: Map<string, number> | undefined;
    for (const truth of truths) {
      if (this.told.has(truth.id)) continue;
      let injectedAt: number | undefined;
      if (truth.causeChangeId === null) injectedAt = truth.effectStart <= until ? truth.effectStart : undefined;
      else {
        shipped ??= new Map(records.flatMap((r) => ('change' in r ? [[r.change.id, r.change.timestamp] as const] : [])));
        injectedAt = shipped.get(truth.causeChangeId);
      }
      if (injectedAt === undefined) continue;
      this.told.add(truth.id);
      this.tell({ ...truth, injectedAt });
    }
  }
}

/** Sends records to their topics keyed by service, catalog and changes before telemetry. */
async function produce(producer: Producer, topics: Config['kafka']['topics'], records: FleetRecord[]): Promise<void> {
  const services: Message[] = [];
  const changes: Message[] = [];
  const telemetry: Message[] = [];
  for (const record of records) {
    if ('metric' in record) telemetry.push({ key: record.metric.service, value: JSON.stringify(record.metric) });
    else if ('change' in record) changes.push({ key: record.change.service, value: JSON.stringify(record.change) });
    else services.push({ key: record.service.name, value: JSON.stringify(record.service) });
  }
  for (const [topic, messages] of [
    [topics.services, services],
    [topics.changes, changes],
    [topics.telemetry, telemetry],
  ] as const) {
    for (let i = 0; i < messages.length; i += 5_000) await producer.send({ topic, messages: messages.slice(i, i + 5_000) });
  }
}
