/**
 * The hand-over between the fetch thread and the pipeline thread: one fetched Kafka partition batch,
 * already decoded and validated, in a shape that crosses threads cheaply. Telemetry points travel as
 * columns of typed arrays (moved, not copied) with each series' identity sent once; changes, catalog
 * entries and refused messages, which are rare, travel as plain objects.
 *
 * The encoder runs where the messages are fetched, the reader where the pipeline runs; both are pure
 * (no I/O, no threads), so they are tested directly.
 */
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import { createError, type ChangewatchError, type ErrorCode } from '../errors.ts';
import { fastTelemetryPoint, isFastTelemetryPoint } from '../wire/schemas.ts';
import { parseJson, validateMany, type DecodedBatch, type EventKind } from '../wire/decode.ts';
import { checkFutureSkew } from '../wire/skew.ts';
import { decodeChangeMessage } from '../wire/cdevents.ts';
import type { KafkaHeaders } from '../wire/cloudevents.ts';
import type { Reading } from '../otlp/map.ts';

/** One Kafka message as the encoder needs it (kafkajs's KafkaMessage fits). */
export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka headers: binary-mode CloudEvents on the changes topic carry their attributes here. */
  headers?: KafkaHeaders;
}

/** The identity of a series as its points name it: everything but value, time and count. */
export interface SeriesIdentity {
  id: number;
  service: string;
  metric: string;
  tags?: Record<string, string>;
}

/** Telemetry points of a batch, in offset order, one array element per point. */
export interface PointColumns {
  /** How many points are filled in (the arrays may be longer). */
  length: number;
  /** Kafka offset of the message each point came in. */
  offsets: Float64Array;
  /** Series id (see `SeriesIdentity`). */
  series: Uint32Array;
  values: Float64Array;
  timestamps: Float64Array;
  /** `count` of the point, NaN when it has none. */
  counts: Float64Array;
  /** Index of the point within its array message, or -1 when the message held it alone. */
  items: Int32Array;
}

/** A change or catalog entry, with where it came from (in case the pipeline refuses it). */
export interface FetchedRecord {
  offset: number;
  key: Uint8Array | null;
  /** Index within an array message, or -1. */
  index: number;
  value: ChangeEvent | ServiceEntry;
}

/** A message or array item refused at decoding, with what its dead-letter record needs. */
export interface FetchedReject {
  offset: number;
  key: Uint8Array | null;
  /** Index of the item within an array message, or -1 when the dead letter concerns the whole message. */
  index: number;
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  /** The refused bytes: the whole message, or the item's JSON. */
  original: Uint8Array | string;
}

/** One fetched partition batch, decoded. */
export interface FetchedBatch {
  topic: string;
  partition: number;
  kind: EventKind;
  /** Offset after the batch's last message: where the partition resumes once this batch is absorbed. */
  nextOffset: number;
  /** Messages the batch held (for flow control). */
  messageCount: number;
  points: PointColumns;
  /** When true, the reader forgets every series id it knows before reading `newSeries`. */
  resetSeries: boolean;
  /** Series first seen in this batch (or since the last reset). */
  newSeries: SeriesIdentity[];
  /** Changes or catalog entries, in offset order. */
  records: FetchedRecord[];
  rejects: FetchedReject[];
  /** OTLP metrics topics only: each usable message's data points, mapped (otlp-batch.ts). */
  otlp?: Array<{ offset: number; readings: Reading[] }>;
}

/** Options of the encoder, from the Kafka config. */
export interface BatchEncoderOptions {
  maxMessageBytes: number;
  maxFutureSkewMs: number;
  /**
   * Series ids kept before the dictionary starts over (a producer sending a fresh tag value on every
   * point must not grow it forever). Default 100,000.
   */
  maxSeriesIds?: number;
}

/** Turns kafkajs messages into `FetchedBatch`es; keeps the series dictionary of the fetch side. */
export class BatchEncoder {
  /** Series ids of untagged points, by service then metric (no key string to build per point). */
  private readonly untagged = new Map<string, Map<string, number>>();
  /** Series ids of tagged points, by service, metric and tags as one key. */
  private readonly tagged = new Map<string, number>();
  private seriesCount = 0;
  // The first batch of every encoder resets the reader: a restarted fetch thread starts from id 0.
  private resetPending = true;
  private readonly maxSeriesIds: number;

  constructor(private readonly options: BatchEncoderOptions) {
    this.maxSeriesIds = options.maxSeriesIds ?? 100_000;
  }

  /** Decodes one partition batch; `now` is the wall clock for the future-skew check. */
  encode(topic: string, partition: number, kind: EventKind, messages: readonly RawMessage[], now: number): FetchedBatch {
    if (this.seriesCount >= this.maxSeriesIds) {
      this.untagged.clear();
      this.tagged.clear();
      this.seriesCount = 0;
      this.resetPending = true;
    }
    const batch: FetchedBatch = {
      topic,
      partition,
      kind,
      nextOffset: Number(messages[messages.length - 1]!.offset) + 1,
      messageCount: messages.length,
      points: allocateColumns(kind === 'metric' ? messages.length : 0),
      resetSeries: this.resetPending,
      newSeries: [],
      records: [],
      rejects: [],
    };
    this.resetPending = false;
    const { maxMessageBytes, maxFutureSkewMs } = this.options;
    for (const message of messages) {
      const offset = Number(message.offset);
      const bytes = message.value ?? Buffer.alloc(0);
      // Changes come as native JSON or as CloudEvents (CDEvents), structured or binary: detected per message.
      const parsed = kind === 'change' ? undefined : parseJson(bytes, maxMessageBytes);
      // The hot path: a message holding one clean point goes into the columns without building it.
      if (kind === 'metric' && parsed?.ok && isFastTelemetryPoint(parsed.value)) {
        const skew = checkFutureSkew(Math.round(parsed.value.timestamp), now, maxFutureSkewMs);
        if (skew) batch.rejects.push(refusal(offset, message.key, -1, skew, JSON.stringify(fastTelemetryPoint(parsed.value))));
        else this.addPoint(batch, offset, -1, parsed.value);
        continue;
      }
      const { values, indexes, rejects }: DecodedBatch<ChangeEvent | TelemetryPoint | ServiceEntry> = !parsed
        ? decodeChangeMessage(bytes, message.headers, maxMessageBytes)
        : parsed.ok
          ? validateMany(kind, parsed.value, bytes)
          : { values: [], rejects: [{ index: -1, error: parsed.error, original: bytes }] };
      for (const reject of rejects) batch.rejects.push(refusal(offset, message.key, reject.index, reject.error, reject.original));
      for (let i = 0; i < values.length; i++) {
        const value = values[i]!;
        // An item of an array message is named by its index in the array, in dead letters.
        const index = indexes ? indexes[i]! : -1;
        const skew = checkFutureSkew('timestamp' in value ? value.timestamp : null, now, maxFutureSkewMs);
        if (skew) batch.rejects.push(refusal(offset, message.key, index, skew, JSON.stringify(value)));
        else if (kind === 'metric') this.addPoint(batch, offset, index, value as TelemetryPoint);
        else batch.records.push({ offset, key: copyKey(message.key), index, value: value as ChangeEvent | ServiceEntry });
      }
    }
    return batch;
  }

  /** The typed arrays to transfer (not copy) with `batch`. */
  static transferList(batch: FetchedBatch): ArrayBuffer[] {
    const { offsets, series, values, timestamps, counts, items } = batch.points;
    return [offsets.buffer, series.buffer, values.buffer, timestamps.buffer, counts.buffer, items.buffer] as ArrayBuffer[];
  }

  private seriesId(point: TelemetryPoint): number | undefined {
    return point.tags === undefined ? this.untagged.get(point.service)?.get(point.metric) : this.tagged.get(taggedKey(point));
  }

  /** Adds a validated point (from the schema, or as `isFastTelemetryPoint` accepted it: timestamp not rounded yet). */
  private addPoint(batch: FetchedBatch, offset: number, index: number, point: TelemetryPoint): void {
    let id = this.seriesId(point);
    if (id === undefined) {
      id = this.seriesCount++;
      if (point.tags === undefined) {
        let byMetric = this.untagged.get(point.service);
        if (!byMetric) this.untagged.set(point.service, (byMetric = new Map()));
        byMetric.set(point.metric, id);
      } else {
        this.tagged.set(taggedKey(point), id);
      }
      // Built as `fastTelemetryPoint` builds it (its own copy of the tags), once per series.
      const identity: SeriesIdentity = { id, service: point.service, metric: point.metric };
      if (point.tags !== undefined) identity.tags = fastTelemetryPoint(point)?.tags ?? { ...point.tags };
      batch.newSeries.push(identity);
    }
    let columns = batch.points;
    if (columns.length === columns.offsets.length) columns = batch.points = grow(columns);
    const i = columns.length++;
    columns.offsets[i] = offset;
    columns.series[i] = id;
    columns.values[i] = point.value;
    columns.timestamps[i] = Math.round(point.timestamp);
    columns.counts[i] = point.count ?? NaN;
    columns.items[i] = index;
  }
}

function taggedKey(point: TelemetryPoint): string {
  return point.service + '\u0000' + point.metric + '\u0000' + JSON.stringify(point.tags);
}

/** The pipeline side's view of the series dictionary: turns columns back into `TelemetryPoint`s. */
export class SeriesTable {
  private readonly identities: SeriesIdentity[] = [];

  /** Takes in the batch's dictionary changes; call before reading its points. */
  absorb(batch: FetchedBatch): void {
    if (batch.resetSeries) this.identities.length = 0;
    for (const identity of batch.newSeries) {
      // Shared by every point of the series; the pipeline only reads tags, and freezing makes sure of it.
      if (identity.tags) Object.freeze(identity.tags);
      this.identities[identity.id] = identity;
    }
  }

  /** Point `i` of `columns`, as the validated object the core takes. */
  point(columns: PointColumns, i: number): TelemetryPoint {
    const identity = this.identities[columns.series[i]!]!;
    const point: TelemetryPoint = { service: identity.service, metric: identity.metric, value: columns.values[i]!, timestamp: columns.timestamps[i]! };
    const count = columns.counts[i]!;
    if (count === count) point.count = count;
    if (identity.tags !== undefined) point.tags = identity.tags;
    return point;
  }
}

/** Rebuilds a refused message's error on the pipeline side (errors cross threads as plain fields). */
export function rejectError(reject: FetchedReject): ChangewatchError {
  return createError(reject.code, reject.message, reject.details);
}

function refusal(offset: number, key: Buffer | null, index: number, error: ChangewatchError, original: Buffer | string): FetchedReject {
  const reject: FetchedReject = {
    offset,
    key: copyKey(key),
    index,
    code: error.code,
    message: error.message,
    original: typeof original === 'string' ? original : copyKey(original)!,
  };
  if (error.details !== undefined) reject.details = error.details;
  return reject;
}

/**
 * Copies bytes to send to the other thread: a kafkajs Buffer is a view into the whole fetch
 * response, which would otherwise be cloned with it.
 */
function copyKey(key: Buffer | null): Uint8Array | null {
  return key ? new Uint8Array(key) : null;
}

function allocateColumns(capacity: number): PointColumns {
  return {
    length: 0,
    offsets: new Float64Array(capacity),
    series: new Uint32Array(capacity),
    values: new Float64Array(capacity),
    timestamps: new Float64Array(capacity),
    counts: new Float64Array(capacity),
    items: new Int32Array(capacity),
  };
}

/** Doubles the columns' capacity (array messages hold several points each). */
function grow(columns: PointColumns): PointColumns {
  const bigger = allocateColumns(Math.max(16, columns.offsets.length * 2));
  bigger.length = columns.length;
  bigger.offsets.set(columns.offsets);
  bigger.series.set(columns.series);
  bigger.values.set(columns.values);
  bigger.timestamps.set(columns.timestamps);
  bigger.counts.set(columns.counts);
  bigger.items.set(columns.items);
  return bigger;
}
