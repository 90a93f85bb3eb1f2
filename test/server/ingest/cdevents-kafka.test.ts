/**
 * CDEvents on the real (mock) broker: structured- and binary-mode CloudEvents on the changes topic
 * become changes the service knows, a malformed one is dead-lettered with its reason, and the HTTP
 * ingest route takes them too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Producer } from 'kafkajs';
import type { ChangeEvent } from '../../../contract/events.ts';
import { aChange } from '../../support/factories.ts';
import { connectedProducer, eventually, TopicReader } from '../../support/kafka-helpers.ts';
import { startTestService, type TestService } from '../../support/service-harness.ts';
import { bearer, testAuthConfigFile, TEST_TOKENS } from '../../support/tokens.ts';

const brokers = inject('kafkaBrokers');
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'wire', 'fixtures', 'cdevents-spec-v0.4');
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** The spec's example `name`, with its own id and a recent time (the examples all share one id and a 2023 time). */
function example(name: string, id: string, at: number): Record<string, unknown> {
  const cdevent = JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as { context: Record<string, unknown> };
  cdevent.context.id = id;
  cdevent.context.timestamp = new Date(at).toISOString();
  return cdevent;
}

function structured(cdevent: Record<string, unknown>, extensions: Record<string, string> = {}): string {
  const context = cdevent.context as Record<string, string>;
  return JSON.stringify({ specversion: '1.0', id: context.id, source: context.source, type: context.type, time: context.timestamp, datacontenttype: 'application/json', ...extensions, data: cdevent });
}

function binaryHeaders(cdevent: Record<string, unknown>, extensions: Record<string, string> = {}, prefix = 'ce_'): Record<string, string> {
  const context = cdevent.context as Record<string, string>;
  const headers: Record<string, string> = { [`${prefix}specversion`]: '1.0', [`${prefix}id`]: context.id!, [`${prefix}source`]: context.source!, [`${prefix}type`]: context.type!, [`${prefix}time`]: context.timestamp!, 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(extensions)) headers[`${prefix}${k}`] = v;
  return headers;
}

async function setup(env: Record<string, string> = {}): Promise<{ service: TestService; producer: Producer }> {
  const service = await startTestService(brokers, { env });
  cleanup.push(() => service.stop());
  const producer = await connectedProducer(brokers);
  cleanup.push(() => producer.disconnect());
  await eventually(() => service.ingest.ready, 20_000, 'the consumer to join its group');
  return { service, producer };
}

async function changes(service: TestService): Promise<ChangeEvent[]> {
  return ((await (await fetch(`${service.url}/api/v1/changes`)).json()) as { changes: ChangeEvent[] }).changes;
}

describe('CDEvents on the changes topic (real broker)', () => {
  it('takes a structured-mode and a binary-mode CDEvent as changes, skips change.merged, dead-letters a malformed one, and still takes native changes', async () => {
    const { service, producer } = await setup();
    const deadletters = await TopicReader.start(brokers, service.topics.deadletter);
    cleanup.push(() => deadletters.stop());
    const at = Date.now() - 60_000;
    const deployed = example('service_deployed.json', 'cde-deployed-1', at);
    const rolledback = example('service_rolledback.json', 'cde-rolledback-1', at + 1_000);
    const broken = example('service_deployed.json', 'cde-broken-1', at + 2_000);
    (broken as { subject: { content: Record<string, unknown> } }).subject.content = { artifactId: 'pkg:oci/myapp@v1' };

    await producer.send({
      topic: service.topics.changes,
      // One key, so one partition: the offsets are the messages' positions here.
      messages: [
        { key: 'myapp', value: structured(deployed, { aiagent: 'kiro', aimodel: 'claude-x', aireviewers: 'alice,bob' }), headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' } },
        { key: 'myapp', value: JSON.stringify(rolledback), headers: binaryHeaders(rolledback, { authortype: 'human', author: 'carol' }) },
        { key: 'myapp', value: structured(example('change_merged.json', 'cde-merged-1', at)), headers: { 'content-type': 'application/cloudevents+json' } },
        { key: 'myapp', value: structured(broken), headers: { 'content-type': 'application/cloudevents+json' } },
        { key: 'myapp', value: JSON.stringify(aChange({ id: 'chg-native', timestamp: at + 3_000 })) },
      ],
    });

    await eventually(async () => (await changes(service)).length === 3, 15_000, 'three changes in the API');
    const byId = Object.fromEntries((await changes(service)).map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(['cde-deployed-1', 'cde-rolledback-1', 'chg-native']);
    expect(byId['cde-deployed-1']).toMatchObject({
      type: 'deploy',
      service: 'myapp',
      environment: 'test123',
      timestamp: at,
      version: 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427',
      author: { type: 'ai_agent', name: 'kiro', agent: 'kiro', model: 'claude-x', reviewedBy: ['alice', 'bob'] },
    });
    expect(byId['cde-rolledback-1']).toMatchObject({ type: 'rollback', service: 'myapp', environment: 'test123', timestamp: at + 1_000, author: { type: 'human', name: 'carol' } });

    const [letter] = await deadletters.waitFor((m) => m.length >= 1);
    expect(deadletters.messages).toHaveLength(1);
    expect(letter!.headers).toMatchObject({ 'changewatch-error-code': 'CW_CLOUDEVENT_INVALID', 'changewatch-source-topic': service.topics.changes, 'changewatch-source-offset': '3' });
    expect(letter!.headers['changewatch-error-message']).toContain('subject.content.environment.id: required');
    expect(letter!.value.toString()).toBe(structured(broken));
    expect(service.core.stats(true).deadLettered).toBe(1);
  });

  it('takes CloudEvents on POST /api/v1/events: structured in a batch, alone, and binary mode; refusals in the answer and the dead-letter topic', async () => {
    const { service } = await setup({ CHANGEWATCH_CONFIG: testAuthConfigFile() });
    const deadletters = await TopicReader.start(brokers, service.topics.deadletter);
    cleanup.push(() => deadletters.stop());
    const at = Date.now() - 60_000;
    const post = async (body: string, headers: Record<string, string> = { 'content-type': 'application/cloudevents-batch+json' }) => {
      const res = await fetch(`${service.url}/api/v1/events`, { method: 'POST', headers: { ...headers, ...bearer(TEST_TOKENS.ingest) }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const batch = await post(
      JSON.stringify([
        JSON.parse(structured(example('service_upgraded.json', 'cde-http-upgraded', at), { aiagent: 'kiro' })),
        JSON.parse(structured(example('change_merged.json', 'cde-http-merged', at))),
        { ...JSON.parse(structured(example('service_deployed.json', 'cde-http-bad', at))), specversion: '0.3' },
      ]),
    );
    expect(batch).toMatchObject({
      status: 202,
      body: { accepted: 1, rejected: [{ index: 2, error: { code: 'CW_CLOUDEVENT_UNSUPPORTED' } }], ignored: [{ index: 1, reason: expect.stringContaining('change.merged') }] },
    });
    const alone = await post(structured(example('service_removed.json', 'cde-http-removed', at + 1_000)), { 'content-type': 'application/cloudevents+json' });
    expect(alone).toMatchObject({ status: 202, body: { accepted: 1, rejected: [] } });
    const deployed = example('service_deployed.json', 'cde-http-binary', at + 2_000);
    const binary = await post(JSON.stringify(deployed), binaryHeaders(deployed, { aiagent: 'kiro' }, 'ce-'));
    expect(binary).toMatchObject({ status: 202, body: { accepted: 1, rejected: [] } });

    await eventually(async () => (await changes(service)).length === 3, 15_000, 'three changes in the API');
    const byId = Object.fromEntries((await changes(service)).map((c) => [c.id, c]));
    expect(byId['cde-http-upgraded']).toMatchObject({ type: 'deploy', service: 'myapp', author: { type: 'ai_agent', agent: 'kiro' } });
    expect(byId['cde-http-removed']).toMatchObject({ type: 'infra', service: 'mySubject123', environment: 'test123' });
    expect(byId['cde-http-binary']).toMatchObject({ type: 'deploy', service: 'myapp', timestamp: at + 2_000, author: { type: 'ai_agent', agent: 'kiro' } });
    const [letter] = await deadletters.waitFor((m) => m.length >= 1);
    expect(letter!.headers['changewatch-error-code']).toBe('CW_CLOUDEVENT_UNSUPPORTED');
  });
});
