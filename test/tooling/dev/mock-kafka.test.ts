import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';

describe('mock Kafka cluster', () => {
  it('round-trips a message through a real Kafka-protocol broker', async () => {
    const kafka = new Kafka({ brokers: [inject('kafkaBrokers')], clientId: 'mock-kafka-test', logLevel: logLevel.NOTHING });
    const topic = `roundtrip-${Date.now()}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'hello' }] });
    const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
    });
    expect(got).toBe('hello');
    await consumer.disconnect();
    await producer.disconnect();
  });
});
