/** The `otlp:` block of the configuration (docs/otel.md). */
import { z } from 'zod';
import { OTLP_ENCODINGS } from './proto.ts';
import { DEFAULT_OTLP_STREAMS } from './streams.ts';

/** How OTLP metrics are read, and the bounds of the state cumulative streams need. */
export const otlpConfigSchema = z.strictObject({
  /**
   * Whether OTLP metrics are taken in at all: the topic `kafka.topics.otlpMetrics` joins the consumer
   * group's subscription, and POST /v1/metrics (which produces to that topic) answers. Off by default:
   * the subscription adds the topic's partitions to every instance's assignment.
   */
  enabled: z.boolean().default(false),
  /** How the collector's Kafka exporter encodes the messages (its `encoding`); a message's own `content-type` header wins. */
  encoding: z.enum(OTLP_ENCODINGS).default('otlp_proto'),
  /** Most cumulative streams whose previous point is kept (all partitions together); the least recently updated is evicted. */
  maxStreams: z.number().int().positive().default(DEFAULT_OTLP_STREAMS.maxStreams),
  /** A stream with no point for this long (event time) is forgotten: its next point only sets a baseline. */
  streamIdleMs: z.number().int().positive().default(DEFAULT_OTLP_STREAMS.idleMs),
});
