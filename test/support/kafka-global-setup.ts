/**
 * vitest global setup: one real mock Kafka cluster (kcat) for the whole run, shared through `inject('kafkaBrokers')`.
 */
import type { TestProject } from 'vitest/node';
import { startMockKafka } from '../../tooling/dev/mock-kafka.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kafka = await startMockKafka();
  project.provide('kafkaBrokers', kafka.brokers);
  return () => kafka.stop();
}
