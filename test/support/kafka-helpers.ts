/**
 * Helpers for tests against the real mock broker: unique topic sets, a producer, and a reader
 * that collects a topic's messages.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Consumer, type IHeaders, type Producer } from 'kafkajs';

/** Topic names and consumer group of one run of changewatch. */
export interface TestTopics {
  changes: string;
  telemetry: string;
  services: string;
  alerts: string;
  deadletter: string;
  /** OTLP metrics (the default, otlp_metrics, would be shared by every test on the broker). */
  otlpMetrics: string;
  groupId: string;
}

/** The topics and group named after `id`. */
export function topicsFor(id: string): TestTopics {
  return { changes: `${id}.changes`, telemetry: `${id}.telemetry`, services: `${id}.services`, alerts: `${id}.alerts`, deadletter: `${id}.deadletter`, otlpMetrics: `${id}.otlp_metrics`, groupId: `${id}-group` };
}

/** Topic names unique to one test, so tests sharing the broker never see each other's events. */
export function uniqueTopics(prefix = 't'): TestTopics {
  return topicsFor(`${prefix}-${randomUUID().slice(0, 8)}`);
}

/** Environment variables that point a changewatch config at these topics. */
export function topicEnv(topics: TestTopics, brokers: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    KAFKA_GROUP_ID: topics.groupId,
    CHANGEWATCH_TOPIC_CHANGES: topics.changes,
    CHANGEWATCH_TOPIC_TELEMETRY: topics.telemetry,
    CHANGEWATCH_TOPIC_SERVICES: topics.services,
    CHANGEWATCH_TOPIC_ALERTS: topics.alerts,
    CHANGEWATCH_TOPIC_DEADLETTER: topics.deadletter,
    CHANGEWATCH_TOPIC_OTLP_METRICS: topics.otlpMetrics,
  };
}

/** A kafkajs client for tests. */
export function testKafka(brokers: string): Kafka {
  return new Kafka({ brokers: [brokers], clientId: 'changewatch-test', logLevel: logLevel.NOTHING });
}

/** A connected producer. */
export async function connectedProducer(brokers: string): Promise<Producer> {
  const producer = testKafka(brokers).producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return producer;
}

/** One message as a test sees it. */
export interface ReadMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Collects every message of a topic from the beginning, as it arrives. */
export class TopicReader {
  readonly messages: ReadMessage[] = [];
  private consumer: Consumer | undefined;

  private constructor(private readonly kafka: Kafka, private readonly topic: string) {}

  /** Starts reading `topic` from its beginning. */
  static async start(brokers: string, topic: string): Promise<TopicReader> {
    const reader = new TopicReader(testKafka(brokers), topic);
    const consumer = reader.kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 50 });
    reader.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        reader.messages.push({ key: message.key?.toString() ?? null, value: message.value ?? Buffer.alloc(0), headers: stringHeaders(message.headers), partition, offset: message.offset });
      },
    });
    return reader;
  }

  /** Resolves when `predicate` holds for the messages read so far, or rejects after `timeoutMs`. */
  async waitFor(predicate: (messages: ReadMessage[]) => boolean, timeoutMs = 15_000): Promise<ReadMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting on topic ${this.topic}; ${this.messages.length} messages read`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.messages;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v.toString();
  return out;
}

/** Polls `condition` until true or the timeout passes. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
