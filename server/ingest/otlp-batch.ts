/**
 * The fetch thread's half of OTLP ingest: decodes the messages of an OTLP metrics topic (as the
 * OpenTelemetry Collector's Kafka exporter writes them) and maps their data points into readings
 * (server/otlp/map.ts), which cross to the pipeline thread in the batch's `otlp` list. The pipeline
 * thread turns readings into points (`OtlpStreams`, which keeps the per-stream state cumulative data
 * needs) and hands them to the core like any telemetry point. What cannot be used becomes a
 * `FetchedReject`, dead-lettered like any refused message: a message that does not decode, with its
 * original bytes; refused data points, one dead letter per metric and reason with a JSON summary.
 */
import { createError, type ChangewatchError } from '../errors.ts';
import { mapOtlpMetrics, type Reading } from '../otlp/map.ts';
import { decodeOtlpMetrics, encodingOfContentType, type OtlpEncoding } from '../otlp/proto.ts';
import { checkFutureSkew } from '../wire/skew.ts';
import type { FetchedBatch, FetchedReject, PointColumns, RawMessage } from './fetched-batch.ts';

/** Header naming a message's encoding when it differs from the topic's (changewatch's own POST /v1/metrics writes it). */
export const OTLP_CONTENT_TYPE_HEADER = 'content-type';

/** The readings of one OTLP message. */
export type FetchedOtlp = NonNullable<FetchedBatch['otlp']>[number];

/** A Kafka message with the headers kafkajs gives. */
export interface RawOtlpMessage extends RawMessage {
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
}

/** Decodes one partition batch of an OTLP topic whose messages are in `encoding` unless a message's content-type header says otherwise. */
export function encodeOtlpBatch(
  topic: string,
  partition: number,
  encoding: OtlpEncoding,
  messages: readonly RawOtlpMessage[],
  now: number,
  options: { maxMessageBytes: number; maxFutureSkewMs: number },
): FetchedBatch & { otlp: FetchedOtlp[] } {
  const batch: FetchedBatch & { otlp: FetchedOtlp[] } = {
    topic,
    partition,
    kind: 'metric',
    nextOffset: Number(messages[messages.length - 1]!.offset) + 1,
    messageCount: messages.length,
    points: emptyColumns(),
    resetSeries: false,
    newSeries: [],
    records: [],
    rejects: [],
    otlp: [],
  };
  for (const message of messages) {
    const offset = Number(message.offset);
    const bytes = message.value ?? Buffer.alloc(0);
    try {
      const decoded = decodeOtlpMetrics(bytes, encodingOf(message) ?? encoding, options.maxMessageBytes);
      if (!decoded.ok) {
        batch.rejects.push(reject(offset, message.key, -1, decoded.error, bytes));
        continue;
      }
      const mapped = mapOtlpMetrics(decoded.value);
      for (const refusal of mapped.refusals) batch.rejects.push(reject(offset, message.key, refusal.index, refusal.error, refusal.original));
      const readings: Reading[] = [];
      let skewed: { error: ChangewatchError; count: number; metric: string } | undefined;
      for (const reading of mapped.readings) {
        const skew = checkFutureSkew(reading.timestamp, now, options.maxFutureSkewMs);
        if (!skew) readings.push(reading);
        else if (skewed) skewed.count++;
        else skewed = { error: skew, count: 1, metric: reading.metric };
      }
      if (skewed) {
        const error = createError('CW_EVENT_TIMESTAMP', `${skewed.count} OTLP data point(s) refused, e.g. of ${skewed.metric}: ${skewed.error.message}`, { dataPoints: skewed.count });
        batch.rejects.push(reject(offset, message.key, -1, error, JSON.stringify({ metric: skewed.metric, dataPoints: skewed.count })));
      }
      if (readings.length) batch.otlp.push({ offset, readings });
    } catch (err) {
      // Mapping never throws by design; should it, the message is dead-lettered rather than stalling the partition.
      batch.rejects.push(reject(offset, message.key, -1, createError('CW_INTERNAL', `internal error while mapping an OTLP message: ${(err as Error).message}`), bytes));
    }
  }
  return batch;
}

/** The encoding a message's content-type header names, if it has a known one. */
function encodingOf(message: RawOtlpMessage): OtlpEncoding | undefined {
  const header = message.headers?.[OTLP_CONTENT_TYPE_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined ? undefined : encodingOfContentType(value.toString());
}

function reject(offset: number, key: Buffer | null, index: number, error: ChangewatchError, original: Uint8Array | string): FetchedReject {
  const out: FetchedReject = {
    offset,
    key: key ? new Uint8Array(key) : null,
    index,
    code: error.code,
    message: error.message,
    // A copy: a kafkajs Buffer is a view into the whole fetch response, which would be cloned with it.
    original: typeof original === 'string' ? original : new Uint8Array(original),
  };
  if (error.details !== undefined) out.details = error.details;
  return out;
}

function emptyColumns(): PointColumns {
  return {
    length: 0,
    offsets: new Float64Array(0),
    series: new Uint32Array(0),
    values: new Float64Array(0),
    timestamps: new Float64Array(0),
    counts: new Float64Array(0),
    items: new Int32Array(0),
  };
}
