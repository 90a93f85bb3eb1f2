/**
 * The pipeline thread's handle on the fetch thread (`fetch-worker.ts`): starts it, passes its
 * batches on, forwards its log lines, asks it to commit, and starts a new one if it dies, so a
 * crashed fetch thread costs a rejoin, never a stalled service.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { FetchedBatch } from './fetched-batch.ts';
import type { FetchWorkerSettings, FromFetchThread, PartitionOffset, ToFetchThread } from './fetch-protocol.ts';
import { partitionKey } from './checkpoint.ts';

/** What the fetch thread hands on, in its order: a batch, or the group's new assignment to this instance (as `partitionKey`s). */
export type FetchedItem = { batch: FetchedBatch } | { assignment: Set<string> };

/**
 * How long after an unexpected exit a new fetch thread is started: 1 s, doubling while threads keep
 * dying before they join their group (a broker that is down), up to 30 s.
 */
export function restartDelayMs(failuresInARow: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, failuresInARow - 1));
}
/** How long a graceful stop (leave the group, disconnect) may take before the thread is terminated. */
const STOP_TIMEOUT_MS = 10_000;

/** Runs the Kafka consumer on its own thread and hands its decoded batches to `onBatch`. */
export class FetchThread {
  private worker: Worker | undefined;
  /** Counts fetch threads started; batches are passed on with the generation of the thread that fetched them. */
  private generation = 0;
  private joinedGroup = false;
  /** False while the current thread hears no answer from any broker (see CONTACT_TIMEOUT_MS in fetch-worker.ts). */
  private brokerAnswers = true;
  /** Threads that exited before joining their group, in a row. */
  private failuresInARow = 0;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextRequestId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(
    private readonly settings: FetchWorkerSettings,
    /** Called for every batch and assignment, with the generation of the fetch thread that fetched it. */
    private readonly onItem: (item: FetchedItem, generation: number) => void,
    private readonly log: Logger,
  ) {}

  /** True while the consumer is a member of its group. */
  get joined(): boolean {
    return this.joinedGroup;
  }

  /** True unless no broker has answered the consumer for the last second or two (the broker is gone or unreachable). */
  get inTouch(): boolean {
    return this.brokerAnswers;
  }

  /** Starts the fetch thread; it joins the group and starts fetching on its own. */
  start(): void {
    const worker = new Worker(new URL('./fetch-worker-boot.mjs', import.meta.url), { workerData: this.settings, name: 'changewatch-fetch' });
    this.worker = worker;
    const generation = ++this.generation;
    this.brokerAnswers = true;
    // A thread being replaced may still have messages in flight: only the current one is heard.
    worker.on('message', (message: FromFetchThread) => {
      if (this.worker === worker) this.receive(message, generation);
    });
    worker.on('error', (err) => this.log.error({ err }, 'the Kafka fetch thread failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.joinedGroup = false;
      for (const { reject } of this.pending.values()) reject(new Error('the Kafka fetch thread exited'));
      this.pending.clear();
      if (this.stopped) return;
      const delay = restartDelayMs(++this.failuresInARow);
      this.log.error({ code, failuresInARow: this.failuresInARow }, `the Kafka fetch thread exited; starting a new one in ${delay} ms`);
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
  }

  /** Tells the fetch thread that `messages` of its messages were processed (or dropped), making room. */
  processed(messages: number): void {
    this.post({ type: 'processed', messages });
  }

  /** Commits offsets to the consumer group; rejects when the consumer cannot (not in its group, broker down). */
  commit(offsets: PartitionOffset[]): Promise<void> {
    return this.request((id) => ({ type: 'commit', id, offsets }));
  }

  /**
   * Replaces the fetch thread by a new one, which rejoins and fetches again from the committed
   * offsets: after a processing failure, what was fetched but not absorbed is fetched again.
   */
  async restart(): Promise<void> {
    await this.shutDown();
    if (!this.stopped) this.start();
  }

  /** Leaves the group and ends the thread. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.shutDown();
  }

  private async shutDown(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await Promise.race([this.request((id) => ({ type: 'stop', id })).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref())]);
    this.worker = undefined;
    this.joinedGroup = false;
    await worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error('the Kafka fetch thread was stopped'));
    this.pending.clear();
  }

  private receive(message: FromFetchThread, generation: number): void {
    switch (message.type) {
      case 'batch':
        this.onItem({ batch: message.batch }, generation);
        break;
      case 'joined':
        this.joinedGroup = message.joined;
        if (message.joined) this.failuresInARow = 0;
        if (message.assignment) {
          const assignment = new Set(Object.entries(message.assignment).flatMap(([topic, partitions]) => partitions.map((p) => partitionKey(topic, p))));
          this.onItem({ assignment }, generation);
        }
        break;
      case 'contact':
        this.brokerAnswers = message.inTouch;
        if (!message.inTouch) this.log.warn({ silentMs: message.silentMs }, 'no Kafka broker has answered the consumer; not ready until one does');
        else this.log.info('a Kafka broker answers the consumer again');
        break;
      case 'log':
        if (message.level === 'error') this.log.error(message.fields, message.message);
        else if (message.level === 'warn') this.log.warn(message.fields, message.message);
        else this.log.debug(message.fields, message.message);
        break;
      case 'reply': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error === undefined) waiter?.resolve();
        else waiter?.reject(new Error(message.error));
        break;
      }
    }
  }

  private request(build: (id: number) => ToFetchThread): Promise<void> {
    const id = this.nextRequestId++;
    return new Promise<void>((resolve, reject) => {
      if (!this.worker) return reject(new Error('the Kafka fetch thread is not running'));
      this.pending.set(id, { resolve, reject });
      this.post(build(id));
    });
  }

  private post(message: ToFetchThread): void {
    this.worker?.postMessage(message);
  }
}
