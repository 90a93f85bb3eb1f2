/**
 * Starts a real changewatch service for a test: its own topics on the shared mock broker, its own
 * data dir, an ephemeral port, silent logs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { startService, type RunningService } from '../../server/service.ts';
import { topicEnv, uniqueTopics } from './kafka-helpers.ts';

/** A running service plus the topics it uses. */
export interface TestService extends RunningService {
  topics: ReturnType<typeof uniqueTopics>;
  dataDir: string;
}

/** Starts changewatch against `brokers` with unique topics (or the given ones) and a temp data dir. */
export async function startTestService(brokers: string, options: { topics?: ReturnType<typeof uniqueTopics>; dataDir?: string; env?: Record<string, string> } = {}): Promise<TestService> {
  const topics = options.topics ?? uniqueTopics();
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'cw-data-'));
  const config = loadConfig({ env: { ...topicEnv(topics, brokers), PORT: '0', CHANGEWATCH_DATA_DIR: dataDir, ...options.env } });
  const service = await startService(config, createLogger('silent'));
  return Object.assign(service, { topics, dataDir });
}
