/**
 * OTLP/HTTP metrics in: `POST /v1/metrics` with an `ExportMetricsServiceRequest` as protobuf
 * (`application/x-protobuf`) or OTLP/JSON (`application/json`), gzip or not, as the OpenTelemetry
 * Collector's `otlphttp` exporter and the SDKs' OTLP/HTTP exporters send it. Writes need an `ingest`
 * token or above, like POST /api/v1/events.
 *
 * Like POST /api/v1/events, the route does not feed the pipeline itself: each resource with usable
 * data points is produced, as its own protobuf message keyed by its service.name, to the OTLP metrics
 * topic, so its points reach the core by the same path as the collector's Kafka exporter's and belong to
 * that partition's shard (cumulative streams need their previous point, which lives with the shard).
 * The answer is the OTLP one: 200 with an `ExportMetricsServiceResponse` in the request's encoding
 * (`partialSuccess` when some points were refused); a body that does not decode, or of which no data
 * point can be used, is 400 with changewatch's JSON error and the reason; 503 while Kafka is away
 * (the collector retries).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Changewatch } from '../core.ts';
import { createError, type ChangewatchError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { mapOtlpMetrics, type Refusal } from '../otlp/map.ts';
import { contentTypeOf, decodeOtlpMetrics, encodeExportResponse, encodeOtlpMetrics, encodingOfContentType } from '../otlp/proto.ts';
import { checkFutureSkew } from '../wire/skew.ts';
import { requireRole, type Authenticator } from './auth.ts';

/** What the route needs from the Kafka edge. */
export interface OtlpPublisher {
  readonly ready: boolean;
  /** `otlp.enabled`: when false the route answers 404 (after the token check). */
  readonly otlpEnabled: boolean;
  /** Produces to the OTLP metrics topic. */
  publishOtlp(messages: Array<{ key: string; value: Buffer; headers: Record<string, string> }>): Promise<void>;
}

/** Dependencies of the OTLP routes. */
export interface OtlpRoutesDeps {
  core: Changewatch;
  publisher: OtlpPublisher;
  authenticator: Authenticator;
  /** Largest accepted body, bytes, after decompression. */
  maxBodyBytes: number;
  maxFutureSkewMs: number;
  log: Logger;
}

/** The router holding `POST /v1/metrics` (mounted at the root). */
export function createOtlpRouter(deps: OtlpRoutesDeps): Router {
  const router = express.Router();
  // The token is checked before the body is read, and the media type before it is parsed.
  router.post(
    '/v1/metrics',
    requireRole(deps.authenticator, 'ingest'),
    (req, _res, next) => {
      if (!deps.publisher.otlpEnabled) throw createError('CW_NOT_FOUND', 'OTLP metrics ingest is off: set otlp.enabled (CHANGEWATCH_OTLP_ENABLED=true); docs/otel.md');
      if (!encodingOfContentType(req.headers['content-type'])) {
        throw createError('CW_UNSUPPORTED_MEDIA_TYPE', `POST /v1/metrics takes application/x-protobuf or application/json, not ${JSON.stringify(req.headers['content-type'] ?? '(none)')}`);
      }
      next();
    },
    express.raw({ limit: deps.maxBodyBytes, type: () => true }),
    async (req: Request, res: Response) => {
      const encoding = encodingOfContentType(req.headers['content-type'])!;
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const decoded = decodeOtlpMetrics(body, encoding, deps.maxBodyBytes);
      if (!decoded.ok) {
        deps.core.reject({ error: decoded.error, original: body, source: { kind: 'http', index: -1 } });
        throw decoded.error;
      }
      const now = Date.now();
      const messages: Array<{ key: string; value: Buffer; headers: Record<string, string> }> = [];
      /** Refusals in resources not produced: dead-lettered here (those in produced ones are dead-lettered by the consumer). */
      const here: Refusal[] = [];
      let refusedPoints = 0;
      let firstError: ChangewatchError | undefined;
      decoded.value.resourceMetrics.forEach((resource, index) => {
        const mapped = mapOtlpMetrics({ resourceMetrics: [resource] });
        const refusals = mapped.refusals.map((refusal) => ({ ...refusal, index }));
        let usable = 0;
        for (const reading of mapped.readings) {
          const skew = checkFutureSkew(reading.timestamp, now, deps.maxFutureSkewMs);
          if (!skew) usable++;
          else {
            refusedPoints++;
            refusals.push({ index, error: skew, original: JSON.stringify({ service: reading.service, metric: reading.metric, timestamp: reading.timestamp }) });
          }
        }
        refusedPoints += mapped.refusedPoints;
        firstError ??= refusals[0]?.error;
        if (usable === 0) {
          here.push(...refusals);
          return;
        }
        const service = mapped.readings[0]!.service;
        messages.push({ key: service, value: Buffer.from(encodeOtlpMetrics({ resourceMetrics: [resource] })), headers: { 'content-type': contentTypeOf('otlp_proto') } });
      });
      for (const refusal of here) deps.core.reject({ error: refusal.error, original: refusal.original, source: { kind: 'http', index: refusal.index } });
      if (messages.length === 0 && firstError) {
        throw createError(firstError.code, `no data point of the request can be used: ${firstError.message}`, { rejectedDataPoints: refusedPoints });
      }
      if (messages.length) {
        if (!deps.publisher.ready) throw createError('CW_KAFKA_UNAVAILABLE', 'Kafka is not connected; nothing was accepted, retry later');
        try {
          await deps.publisher.publishOtlp(messages);
        } catch (err) {
          deps.log.warn({ err }, 'POST /v1/metrics: Kafka did not acknowledge the records');
          throw createError('CW_KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the metrics (some may have been produced); retry later', undefined, { cause: err });
        }
      }
      res.status(200).setHeader('content-type', contentTypeOf(encoding));
      res.send(encodeExportResponse(encoding, refusedPoints ? { rejectedDataPoints: refusedPoints, errorMessage: firstError?.message ?? 'some data points were refused' } : undefined));
    },
  );
  return router;
}
