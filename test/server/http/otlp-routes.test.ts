import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Changewatch } from '../../../server/core.ts';
import { createHttpApp, type EventPublisher } from '../../../server/http/app.ts';
import type { OtlpPublisher } from '../../../server/http/otlp-routes.ts';
import { createLogger } from '../../../server/log.ts';
import { mapOtlpMetrics } from '../../../server/otlp/map.ts';
import { decodeOtlpMetrics } from '../../../server/otlp/proto.ts';
import { createPipeline } from '../../../server/pipeline/create.ts';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../server/pipeline/pipeline.ts';
import { AggregationTemporality, gauge, histogram, otlpJson, otlpProto, resourceMetrics } from '../../support/otlp.ts';
import { bearer, testAuthenticator, TEST_TOKENS } from '../../support/tokens.ts';

/** Records what POST /v1/metrics would have produced to the OTLP topic. */
class RecordingOtlpPublisher implements OtlpPublisher, EventPublisher {
  ready = true;
  otlpEnabled = true;
  published: Array<{ key: string; value: Buffer; headers: Record<string, string> }> = [];
  async publishOtlp(messages: Array<{ key: string; value: Buffer; headers: Record<string, string> }>): Promise<void> {
    this.published.push(...messages);
  }
  async publish(): Promise<void> {}
  consumedOffsets(): Record<string, string> {
    return {};
  }
  assignedPartitions(): string[] {
    return [];
  }
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function serve(): Promise<{ url: string; core: Changewatch; publisher: RecordingOtlpPublisher }> {
  const core = new Changewatch(createPipeline(DEFAULT_PIPELINE_OPTIONS));
  const publisher = new RecordingOtlpPublisher();
  const app = createHttpApp({
    core,
    publisher,
    otlpPublisher: publisher,
    log: createLogger('silent'),
    authenticator: testAuthenticator(),
    maxBodyBytes: 100_000,
    maxFutureSkewMs: 3_600_000,
    dashboardDir: '/nonexistent',
  });
  const server = app.listen(0);
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, core, publisher };
}

const T0 = Date.now() - 60_000;
const checkout = () =>
  resourceMetrics({ 'service.name': 'checkout', 'service.version': 'v2.4.0' }, [
    gauge('process.cpu.utilization', [{ at: T0, value: 0.4 }]),
    histogram('http.server.request.duration', AggregationTemporality.DELTA, [{ at: T0, boundaries: [0.1, 1], counts: [5, 4, 1], sum: 3 }]),
  ]);

function post(url: string, body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/v1/metrics`, { method: 'POST', body: new Uint8Array(body), headers });
}

describe('POST /v1/metrics', () => {
  it('takes protobuf built by the SDK serializer with an ingest token, answers an empty protobuf ExportMetricsServiceResponse, and produces the resource keyed by service.name', async () => {
    const { url, publisher } = await serve();
    const res = await post(url, otlpProto(checkout()), { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    expect(publisher.published).toHaveLength(1);
    const [message] = publisher.published;
    expect(message!.key).toBe('checkout');
    expect(message!.headers).toEqual({ 'content-type': 'application/x-protobuf' });
    const produced = decodeOtlpMetrics(message!.value, 'otlp_proto', 1e6);
    if (!produced.ok) throw produced.error;
    const readings = mapOtlpMetrics(produced.value).readings;
    expect(readings.map((r) => [r.service, r.metric, r.kind, r.tags.version])).toEqual([
      ['checkout', 'process.cpu.utilization', 'level', 'v2.4.0'],
      ['checkout', 'http.server.request.duration', 'distribution', 'v2.4.0'],
    ]);
  });

  it('takes OTLP/JSON built by the SDK serializer, gzipped or not, and answers in JSON', async () => {
    const { url, publisher } = await serve();
    const plain = await post(url, otlpJson(checkout()), { 'content-type': 'application/json', ...bearer(TEST_TOKENS.operator) });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await plain.json()).toEqual({});
    const gzipped = await post(url, gzipSync(otlpJson(checkout())), { 'content-type': 'application/json', 'content-encoding': 'gzip', ...bearer(TEST_TOKENS.ingest) });
    expect(gzipped.status).toBe(200);
    expect(publisher.published.map((m) => m.key)).toEqual(['checkout', 'checkout']);
  });

  it('needs an ingest token or above: 401 without or with an unknown token, 403 for a viewer', async () => {
    const { url, publisher } = await serve();
    const body = otlpProto(checkout());
    expect((await post(url, body, { 'content-type': 'application/x-protobuf' })).status).toBe(401);
    expect((await post(url, body, { 'content-type': 'application/x-protobuf', ...bearer('cw_unknown') })).status).toBe(401);
    const forbidden = await post(url, body, { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.viewer) });
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.code).toBe('CW_AUTH_FORBIDDEN');
    expect(publisher.published).toEqual([]);
  });

  it('answers 400 with the JSON error and the reason for a body that does not decode, and dead-letters it', async () => {
    const { url, core } = await serve();
    const res = await post(url, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('CW_OTLP_DECODE');
    expect(body.error.message).toMatch(/not a protobuf ExportMetricsServiceRequest/);
    const json = await post(url, Buffer.from('{"resourceMetrics": 3'), { 'content-type': 'application/json', ...bearer(TEST_TOKENS.ingest) });
    expect(json.status).toBe(400);
    expect((await json.json()).error.code).toBe('CW_EVENT_INVALID_JSON');
    expect(core.stats(true).deadLettered).toBe(2);
  });

  it('answers 400 CW_OTLP_NO_SERVICE when no resource names its service, and partial success when only some do', async () => {
    const { url, publisher } = await serve();
    const anonymous = resourceMetrics({ 'host.name': 'web-1' }, [gauge('queue.depth', [{ at: T0, value: 1 }])]);
    const refused = await post(url, otlpProto(anonymous), { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) });
    expect(refused.status).toBe(400);
    const error = (await refused.json()).error;
    expect(error.code).toBe('CW_OTLP_NO_SERVICE');
    expect(error.message).toMatch(/no service\.name/);
    expect(error.details).toEqual({ rejectedDataPoints: 1 });
    // Two resources in one request (protobuf messages concatenate into one): one produced, one refused.
    const partial = await post(url, Buffer.concat([otlpProto(checkout()), otlpProto(anonymous)]), { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) });
    expect(partial.status).toBe(200);
    expect(publisher.published.map((m) => m.key)).toEqual(['checkout']);
    const jsonPartial = await post(url, Buffer.from(JSON.stringify({ resourceMetrics: [...JSON.parse(otlpJson(checkout()).toString()).resourceMetrics, ...JSON.parse(otlpJson(anonymous).toString()).resourceMetrics] })), {
      'content-type': 'application/json',
      ...bearer(TEST_TOKENS.ingest),
    });
    expect(jsonPartial.status).toBe(200);
    expect(await jsonPartial.json()).toEqual({ partialSuccess: { rejectedDataPoints: '1', errorMessage: expect.stringMatching(/no service\.name/) } });
  });

  it('answers 415 for another media type and 503 while Kafka is not connected', async () => {
    const { url, publisher } = await serve();
    const text = await post(url, Buffer.from('x'), { 'content-type': 'text/plain', ...bearer(TEST_TOKENS.ingest) });
    expect(text.status).toBe(415);
    expect((await text.json()).error.code).toBe('CW_UNSUPPORTED_MEDIA_TYPE');
    publisher.ready = false;
    const away = await post(url, otlpProto(checkout()), { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) });
    expect(away.status).toBe(503);
    expect((await away.json()).error.code).toBe('CW_KAFKA_UNAVAILABLE');
  });

  it('answers 404 after the token check while otlp.enabled is false', async () => {
    const { url, publisher } = await serve();
    publisher.otlpEnabled = false;
    expect((await post(url, otlpProto(checkout()), { 'content-type': 'application/x-protobuf' })).status).toBe(401);
    const off = await post(url, otlpProto(checkout()), { 'content-type': 'application/x-protobuf', ...bearer(TEST_TOKENS.ingest) });
    expect(off.status).toBe(404);
    expect((await off.json()).error.message).toMatch(/otlp\.enabled/);
    expect(publisher.published).toEqual([]);
  });
});
