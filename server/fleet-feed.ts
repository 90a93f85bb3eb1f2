/**
 * The fleet feed: a dashboard connected to any instance sees what every instance produced. Each
 * instance of a deployment announces its own alerts, incidents and automation changes on one
 * PostgreSQL LISTEN/NOTIFY channel (it is a sink of the core's emissions, like the Kafka producer
 * and the socket gateway), and hands what the others announce to its core as `origin: 'fleet'`
 * emissions, which only the dashboards' sink acts on. The store stays the record: a notification
 * only saves dashboards a poll.
 *
 * A notification carries what fits in PostgreSQL's 8,000-byte limit: alerts and incidents as they
 * are, packed several to a notification, and for one too large to carry its id, which the listener
 * reads from the store (where the producing instance's router has stored it, or will a moment later:
 * the listener then shows the version stored before). The automation panel's state is always read
 * from the store. What is sent while a listener is disconnected is lost to its live view; its
 * dashboards catch up on their next snapshot.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Alert } from '../contract/alert.ts';
import type { AutomationSnapshot } from '../contract/automation.ts';
import type { Incident } from '../contract/incident.ts';
import type { Changewatch } from './core.ts';
import { isFromFleet, type Emission, type EmissionSink } from './emission.ts';
import type { Logger } from './log.ts';
import { MAX_NOTIFICATION_BYTES, type SqlNotifications } from './store/sql-client.ts';
import type { Store } from './store/store.ts';

/** The LISTEN/NOTIFY channel of the fleet feed (scoped by the store's schema). */
export const FLEET_CHANNEL = 'changewatch_fleet';

/** One thing announced on the feed. */
export type FleetItem = { alert: Alert } | { incident: Incident } | { alertId: string } | { incidentId: string } | { automation: true };

/** One notification on the feed: who sent it and what it announces, in the order produced. */
export interface FleetMessage {
  from: string;
  items: FleetItem[];
}

/** What the feed needs. */
export interface FleetFeedOptions {
  notifications: SqlNotifications;
  core: Pick<Changewatch, 'absorbFleet'>;
  store: Pick<Store, 'alerts' | 'incidents'>;
  /** The automation panel's state as the store has it now. */
  automation: () => Promise<AutomationSnapshot>;
  /** This instance's id (see `newInstanceId`): its own notifications come back to it and are skipped. */
  instanceId: string;
  log: Logger;
}

/** An id for this process among the deployment's instances: host, pid and a random part. */
export function newInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Announces this instance's emissions to the others and absorbs theirs. */
export class FleetFeed implements EmissionSink {
  /** Names this sink in logs. */
  readonly name = 'fleet-feed';
  private sending: Promise<void> = Promise.resolve();
  private receiving: Promise<void> = Promise.resolve();
  private stopListening: (() => Promise<void>) | undefined;

  private constructor(private readonly options: FleetFeedOptions) {}

  /** Starts listening to the other instances; register the feed as a sink of the core to announce this one's. */
  static async start(options: FleetFeedOptions): Promise<FleetFeed> {
    const feed = new FleetFeed(options);
    feed.stopListening = await options.notifications.listen(FLEET_CHANNEL, (payload) => feed.received(payload));
    return feed;
  }

  /** The sink: this instance's alerts, incidents and automation changes are announced, in order. */
  accept(emission: Emission): void {
    if (isFromFleet(emission)) return;
    const items: FleetItem[] = [...emission.alerts.map((alert) => ({ alert })), ...emission.incidents.map((incident) => ({ incident }))];
    if (emission.automation) items.push({ automation: true });
    for (const payload of packFleetMessages(this.options.instanceId, items)) {
      this.sending = this.sending
        .then(() => this.options.notifications.notify(FLEET_CHANNEL, payload))
        .catch((err: unknown) => this.options.log.warn({ err }, 'could not announce to the other instances; their dashboards miss this update until they reconnect'));
    }
  }

  /** Resolves once everything announced and heard so far is handled (tests, shutdown). */
  async idle(): Promise<void> {
    await this.sending;
    await this.receiving;
  }

  /** Stops listening and waits for what is in flight (remove it from the core's sinks first). */
  async stop(): Promise<void> {
    await this.stopListening?.();
    await this.idle();
  }

  /** Another instance's notification (or this one's own, which is skipped). */
  private received(payload: string): void {
    let message: FleetMessage;
    try {
      message = JSON.parse(payload) as FleetMessage;
    } catch (err) {
      this.options.log.warn({ err }, 'ignored an unreadable notification on the fleet channel');
      return;
    }
    if (message.from === this.options.instanceId || !Array.isArray(message.items)) return;
    this.receiving = this.receiving
      .then(() => this.absorb(message.items))
      .catch((err: unknown) => this.options.log.warn({ err, from: message.from }, 'could not show another instance’s update'));
  }

  private async absorb(items: readonly FleetItem[]): Promise<void> {
    const alerts: Alert[] = [];
    const incidents: Incident[] = [];
    let automation: AutomationSnapshot | undefined;
    const { store } = this.options;
    for (const item of items) {
      if ('alert' in item) alerts.push(item.alert);
      else if ('incident' in item) incidents.push(item.incident);
      else if ('alertId' in item) alerts.push(...(await store.alerts.getMany([item.alertId])));
      else if ('incidentId' in item) {
        const incident = await store.incidents.get(item.incidentId);
        if (incident) incidents.push(incident);
      } else if ('automation' in item) automation = await this.options.automation();
    }
    this.options.core.absorbFleet({ alerts, incidents, ...(automation ? { automation } : {}) });
  }
}

/**
 * Packs items into as few notifications as fit PostgreSQL's payload limit, in order; an alert or
 * incident too large for one notification on its own travels as its id.
 */
export function packFleetMessages(from: string, items: readonly FleetItem[], maxBytes = MAX_NOTIFICATION_BYTES): string[] {
  const envelope = Buffer.byteLength(JSON.stringify({ from, items: [] }));
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = envelope;
  for (const item of items) {
    let json = JSON.stringify(item);
    if (envelope + Buffer.byteLength(json) > maxBytes) json = JSON.stringify('alert' in item ? { alertId: item.alert.id } : 'incident' in item ? { incidentId: item.incident.id } : item);
    const bytes = Buffer.byteLength(json) + (batch.length ? 1 : 0);
    if (batch.length && size + bytes > maxBytes) {
      payloads.push(payloadOf(from, batch));
      batch = [];
      size = envelope;
    }
    batch.push(json);
    size += Buffer.byteLength(json) + (batch.length > 1 ? 1 : 0);
  }
  if (batch.length) payloads.push(payloadOf(from, batch));
  return payloads;
}

/** The notification's JSON from already serialized items. */
function payloadOf(from: string, items: readonly string[]): string {
  return `{"from":${JSON.stringify(from)},"items":[${items.join(',')}]}`;
}
