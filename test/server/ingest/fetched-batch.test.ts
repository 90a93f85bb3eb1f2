import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TelemetryPoint } from '../../../contract/events.ts';
import { decodeMany } from '../../../server/wire/decode.ts';
import { BatchEncoder, rejectError, SeriesTable, type FetchedBatch, type RawMessage } from '../../../server/ingest/fetched-batch.ts';
import { aChange, aPoint, T0 } from '../../support/factories.ts';

const NOW = T0 + 60_000;
const options = { maxMessageBytes: 10_000, maxFutureSkewMs: 3_600_000 };

/** Kafka-like messages with consecutive offsets from `first`. */
function messages(values: Array<string | Buffer | null>, first = 100): RawMessage[] {
  return values.map((value, i) => ({ offset: String(first + i), key: Buffer.from('checkout'), value: typeof value === 'string' ? Buffer.from(value) : value }));
}

/** What the pipeline thread reads back, through a real structured clone with the transfer list. */
function readBack(table: SeriesTable, batch: FetchedBatch): { points: TelemetryPoint[]; offsets: number[]; items: number[] } {
  const received = structuredClone(batch, { transfer: BatchEncoder.transferList(batch) });
  table.absorb(received);
  const points: TelemetryPoint[] = [];
  const offsets: number[] = [];
  const items: number[] = [];
  for (let i = 0; i < received.points.length; i++) {
    points.push(table.point(received.points, i));
    offsets.push(received.points.offsets[i]!);
    items.push(received.points.items[i]!);
  }
  return { points, offsets, items };
}

describe('fetched batches (fetch thread → pipeline thread)', () => {
  it('carries points as columns that read back as the points decodeMany would give', () => {
    const values = [
      JSON.stringify(aPoint()),
      JSON.stringify(aPoint({ value: 0.5, count: 40, tags: { version: 'v2', region: 'eu' } })),
      // Not on the fast path: an ISO timestamp and a padded metric name are normalized by the schema.
      JSON.stringify({ ...aPoint(), timestamp: new Date(T0 + 1_000).toISOString() }),
      JSON.stringify([aPoint({ value: 1 }), { nope: true }, aPoint({ value: 3, timestamp: T0 + 0.6 })]),
    ];
    const encoder = new BatchEncoder(options);
    const batch = encoder.encode('telemetry', 2, 'metric', messages(values), NOW);
    const expected = values.flatMap((v) => decodeMany('metric', v, options.maxMessageBytes).values);

    const { points, offsets, items } = readBack(new SeriesTable(), batch);
    expect(points).toEqual(expected);
    expect(offsets).toEqual([100, 101, 102, 103, 103]);
    // Items of an array message keep their index in the array, past the refused one.
    expect(items).toEqual([-1, -1, -1, 0, 2]);
    expect(batch).toMatchObject({ topic: 'telemetry', partition: 2, nextOffset: 104, messageCount: 4, resetSeries: true });
    expect(batch.rejects).toHaveLength(1);
    expect(batch.rejects[0]).toMatchObject({ offset: 103, index: 1, code: 'CW_EVENT_SCHEMA', original: '{"nope":true}' });
  });

  it('refuses bad messages with the reason, the original bytes and a key that is a copy, not a view of the fetch', () => {
    const fetchResponse = Buffer.from('xxcheckoutxx');
    const key = fetchResponse.subarray(2, 10);
    const future = JSON.stringify(aPoint({ timestamp: NOW + 2 * 3_600_000 }));
    const raw: RawMessage[] = [
      { offset: '7', key, value: Buffer.from('{"service":') },
      { offset: '8', key: null, value: null },
      { offset: '9', key, value: Buffer.from(JSON.stringify({ ...aPoint(), pad: 'x'.repeat(20_000) })) },
      { offset: '10', key, value: Buffer.from(future) },
    ];
    const batch = new BatchEncoder(options).encode('telemetry', 0, 'metric', raw, NOW);
    expect(batch.points.length).toBe(0);
    expect(batch.rejects.map((r) => [r.offset, r.code, r.index])).toEqual([
      [7, 'CW_EVENT_INVALID_JSON', -1],
      [8, 'CW_EVENT_INVALID_JSON', -1],
      [9, 'CW_EVENT_TOO_LARGE', -1],
      [10, 'CW_EVENT_TIMESTAMP', -1],
    ]);
    expect(Buffer.from(batch.rejects[0]!.original as Uint8Array).toString()).toBe('{"service":');
    expect(batch.rejects[0]!.key!.buffer.byteLength).toBe(8);
    expect(Buffer.from(batch.rejects[0]!.key!).toString()).toBe('checkout');
    expect(batch.rejects[3]!.original).toBe(future);
    const error = rejectError(batch.rejects[2]!);
    expect(error.code).toBe('CW_EVENT_TOO_LARGE');
    expect(error.statusCode).toBe(413);
  });

  it('passes changes and catalog entries as records with their offsets and keys', () => {
    const encoder = new BatchEncoder(options);
    const changes = encoder.encode('changes', 1, 'change', messages([JSON.stringify(aChange()), '{}']), NOW);
    expect(changes.records).toHaveLength(1);
    expect(changes.records[0]).toMatchObject({ offset: 100, index: -1, value: { id: 'chg-1', service: 'checkout' } });
    expect(Buffer.from(changes.records[0]!.key!).toString()).toBe('checkout');
    expect(changes.rejects[0]).toMatchObject({ offset: 101, code: 'CW_EVENT_SCHEMA' });
    const services = encoder.encode('services', 0, 'service', messages([JSON.stringify({ name: 'checkout', dependsOn: ['payments'] })]), NOW);
    expect(services.records[0]!.value).toEqual({ name: 'checkout', dependsOn: ['payments'] });
  });

  it('sends each series identity once, and starts the dictionary over when it is full', () => {
    const encoder = new BatchEncoder({ ...options, maxSeriesIds: 3 });
    const table = new SeriesTable();
    const series = (n: number, value: number) => Array.from({ length: n }, (_, i) => JSON.stringify(aPoint({ metric: `m${i}`, value })));

    const first = encoder.encode('t', 0, 'metric', messages(series(2, 1)), NOW);
    expect(first.newSeries.map((s) => s.metric)).toEqual(['m0', 'm1']);
    expect(readBack(table, first).points.map((p) => [p.metric, p.value])).toEqual([['m0', 1], ['m1', 1]]);

    const second = encoder.encode('t', 0, 'metric', messages(series(3, 2), 102), NOW);
    expect(second.resetSeries).toBe(false);
    expect(second.newSeries.map((s) => s.metric)).toEqual(['m2']);
    expect(readBack(table, second).points.map((p) => p.metric)).toEqual(['m0', 'm1', 'm2']);

    // Three ids are the limit: the next batch resets, and the reader follows.
    const third = encoder.encode('t', 0, 'metric', messages([JSON.stringify(aPoint({ metric: 'm9' })), ...series(1, 3)], 105), NOW);
    expect(third.resetSeries).toBe(true);
    expect(third.newSeries.map((s) => [s.id, s.metric])).toEqual([[0, 'm9'], [1, 'm0']]);
    expect(readBack(table, third).points.map((p) => [p.metric, p.value])).toEqual([['m9', 0.01], ['m0', 3]]);
  });

  it('reads back exactly what decodeMany accepts, for any mix of messages', () => {
    const name = fc.oneof(fc.constantFrom('checkout', 'payments', ' padded ', ''), fc.string({ maxLength: 5 }));
    const pointLike = fc.record(
      {
        service: name,
        metric: fc.constantFrom('error_rate', 'latency_p99'),
        value: fc.oneof(fc.double(), fc.integer(), fc.constant('1')),
        timestamp: fc.oneof(fc.integer({ min: T0 - 1e6, max: T0 + 1e6 }), fc.double({ min: T0, max: T0 + 1e6, noNaN: true }), fc.constant('2026-03-02T00:00:01Z'), fc.constant(17)),
        count: fc.oneof(fc.nat(1000), fc.constant(-1), fc.constant(1.5)),
        tags: fc.oneof(fc.dictionary(fc.constantFrom('version', 'region', 'env'), fc.constantFrom('v1', 'v2', 'eu')), fc.constant([])),
      },
      { requiredKeys: ['service', 'metric', 'value', 'timestamp'] },
    );
    const message = fc.oneof(pointLike.map((p) => JSON.stringify(p)), fc.array(pointLike, { maxLength: 4 }).map((a) => JSON.stringify(a)), fc.constant('not json'));
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (values) => {
        const batch = new BatchEncoder(options).encode('t', 0, 'metric', messages(values), NOW);
        const decoded = values.map((v) => decodeMany('metric', v, options.maxMessageBytes));
        expect(readBack(new SeriesTable(), batch).points).toEqual(decoded.flatMap((d) => d.values));
        expect(batch.rejects.map((r) => [r.code, r.index])).toEqual(decoded.flatMap((d) => d.rejects.map((r) => [r.error.code, r.index])));
      }),
      { numRuns: 300 },
    );
  });
});
