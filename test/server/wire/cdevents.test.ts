import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { changeFromJson, decodeChangeMessage, parseArtifact } from '../../../server/wire/cdevents.ts';
import { readBinary } from '../../../server/wire/cloudevents.ts';
import { aChange } from '../../support/factories.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cdevents-spec-v0.4');
/** The spec's example file, as text, exactly as the spec repository has it. */
const specText = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const spec = (name: string): Record<string, unknown> => JSON.parse(specText(name));
/** The example as the released spec names its types: without the `-draft` suffixes. */
const released = (name: string): Record<string, unknown> => JSON.parse(specText(name).replaceAll('0.4.0-draft', '0.4.1').replaceAll('.0.2.0-draft', '.0.2.0'));

const DIGEST = 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427';
const EXAMPLE_TIME = Date.parse('2023-03-20T14:27:05.315Z');

/** A structured-mode CloudEvent carrying `cdevent`, as the CDEvents CloudEvents binding lays it out. */
function structured(cdevent: Record<string, unknown>, extensions: Record<string, unknown> = {}): Record<string, unknown> {
  const context = cdevent.context as Record<string, string>;
  return { specversion: '1.0', id: context.id, source: context.source, type: context.type, time: context.timestamp, datacontenttype: 'application/json', ...extensions, data: cdevent };
}

/** Binary-mode Kafka headers for `cdevent`. */
function binaryHeaders(cdevent: Record<string, unknown>, extensions: Record<string, string> = {}): Record<string, Buffer> {
  const context = cdevent.context as Record<string, string>;
  const headers: Record<string, string> = { ce_specversion: '1.0', ce_id: context.id!, ce_source: context.source!, ce_type: context.type!, ce_time: context.timestamp!, 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(extensions)) headers[`ce_${k}`] = v;
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
}

const decodeStructured = (event: unknown) => decodeChangeMessage(Buffer.from(JSON.stringify(event)), { 'content-type': Buffer.from('application/cloudevents+json; charset=utf-8') }, 1_000_000);

describe('the CDEvents specification examples', () => {
  for (const variant of ['as stored (0.4.0-draft)', 'as released (0.4.1)'] as const) {
    const load = variant.startsWith('as stored') ? spec : released;

    it(`maps service.deployed ${variant}: service from the purl name, version from its (percent-decoded) version`, () => {
      const expected = {
        id: '271069a8-fc18-44f1-b38f-9d70a1695819',
        type: 'deploy',
        service: 'myapp',
        environment: 'test123',
        timestamp: EXAMPLE_TIME,
        version: DIGEST,
        author: { type: 'human', name: '/event/source/123' },
      };
      // Bare, structured mode, binary mode: the same change.
      expect(changeFromJson(load('service_deployed.json'))).toEqual({ ok: true, value: expect.objectContaining(expected) });
      expect(decodeStructured(structured(load('service_deployed.json')))).toMatchObject({ values: [expected], rejects: [], ignored: 0 });
      const bytes = Buffer.from(JSON.stringify(load('service_deployed.json')));
      expect(decodeChangeMessage(bytes, binaryHeaders(load('service_deployed.json')), 1_000_000)).toMatchObject({ values: [expected], rejects: [], ignored: 0 });
    });

    it(`maps service.upgraded to a deploy, service.rolledback to a rollback and service.removed to an infra change ${variant}`, () => {
      expect(decodeStructured(structured(load('service_upgraded.json'))).values).toMatchObject([{ type: 'deploy', service: 'myapp', environment: 'test123', version: DIGEST }]);
      expect(decodeStructured(structured(load('service_rolledback.json'))).values).toMatchObject([{ type: 'rollback', service: 'myapp', environment: 'test123', version: DIGEST }]);
      const [removed] = decodeStructured(structured(load('service_removed.json'))).values;
      // No artifact: the service is named by the subject id; nothing new runs, so no version.
      expect(removed).toMatchObject({ type: 'infra', service: 'mySubject123', environment: 'test123', timestamp: EXAMPLE_TIME });
      expect(removed!.version).toBeUndefined();
      expect(removed!.summary).toContain('service.removed');
    });

    it(`ignores change.merged ${variant}: parsed and checked, but not a production change`, () => {
      expect(changeFromJson(load('change_merged.json'))).toMatchObject({ ok: 'ignored', reason: expect.stringContaining('TestRepo/TestOrg') });
      expect(decodeStructured(structured(load('change_merged.json')))).toEqual({ values: [], rejects: [], ignored: 1 });
    });
  }
});

describe('provenance from extension attributes and customData', () => {
  it('reads aiagent, aimodel, aireviewers (comma-separated) from CloudEvents extensions, in either mode', () => {
    const cdevent = released('service_deployed.json');
    const extensions = { aiagent: 'kiro', aimodel: 'claude-x', aireviewers: 'alice, bob', previousversion: 'v1.1.0', pr: 'https://git.example/pr/7', commit: 'abc123' };
    const want = { author: { type: 'ai_agent', name: 'kiro', agent: 'kiro', model: 'claude-x', reviewedBy: ['alice', 'bob'] }, previousVersion: 'v1.1.0', links: { pr: 'https://git.example/pr/7', commit: 'abc123' } };
    expect(decodeStructured(structured(cdevent, extensions)).values).toMatchObject([want]);
    expect(decodeChangeMessage(Buffer.from(JSON.stringify(cdevent)), binaryHeaders(cdevent, extensions), 1_000_000).values).toMatchObject([want]);
  });

  it('reads them from customData too (reviewers as an array), extensions winning; authortype and author override', () => {
    const cdevent = { ...released('service_deployed.json'), customData: { aiagent: 'copilot', aireviewers: ['carol'], authortype: 'ai_assisted', author: 'dana', service: 'checkout', summary: 'Refactor payment retries' } };
    expect(decodeStructured(structured(cdevent)).values).toMatchObject([
      { service: 'checkout', summary: 'Refactor payment retries', author: { type: 'ai_assisted', name: 'dana', agent: 'copilot', reviewedBy: ['carol'] } },
    ]);
    expect(decodeStructured(structured(cdevent, { aiagent: 'kiro' })).values[0]!.author).toMatchObject({ type: 'ai_assisted', name: 'dana', agent: 'kiro' });
    const bad = decodeStructured(structured({ ...cdevent, customData: { authortype: 'robot' } }));
    expect(bad.rejects[0]!.error).toMatchObject({ code: 'CW_CLOUDEVENT_INVALID', message: expect.stringContaining('authortype must be one of ai_agent, ai_assisted, human') });
  });

  it('takes the version from an OCI purl tag qualifier, and from plain image references', () => {
    expect(parseArtifact('pkg:oci/myapp@sha256%3Aabc?repository_url=ghcr.io/acme&tag=v2.4.0')).toEqual({ name: 'myapp', version: 'v2.4.0' });
    expect(parseArtifact('pkg:oci/myapp?tag=v2')).toEqual({ name: 'myapp', version: 'v2' });
    expect(parseArtifact('pkg:golang/github.com/acme/checkout@v1.2.3')).toEqual({ name: 'checkout', version: 'v1.2.3' });
    expect(parseArtifact('registry.example.com/payment-service:v2.1.0')).toEqual({ name: 'payment-service', version: 'v2.1.0' });
    expect(parseArtifact('nginx@sha256:abc')).toEqual({ name: 'nginx', version: 'sha256:abc' });
  });
});

describe('format detection on the changes topic', () => {
  it('keeps native changes as they were, alone or in arrays mixed with CloudEvents', () => {
    expect(decodeChangeMessage(Buffer.from(JSON.stringify(aChange())), undefined, 10_000)).toMatchObject({ values: [{ id: 'chg-1' }], rejects: [], ignored: 0 });
    const mixed = decodeChangeMessage(Buffer.from(JSON.stringify([aChange(), structured(released('service_deployed.json')), released('change_merged.json'), { nope: 1 }])), undefined, 10_000);
    expect(mixed.values.map((c) => c.id)).toEqual(['chg-1', '271069a8-fc18-44f1-b38f-9d70a1695819']);
    expect(mixed.indexes).toEqual([0, 1]);
    expect(mixed.ignored).toBe(1);
    expect(mixed.rejects.map((r) => [r.index, r.error.code])).toEqual([[3, 'CW_EVENT_SCHEMA']]);
  });

  it('takes a structured CloudEvent without a content-type header by its specversion', () => {
    expect(decodeChangeMessage(Buffer.from(JSON.stringify(structured(released('service_deployed.json')))), undefined, 10_000).values).toHaveLength(1);
  });

  it('accepts a CloudEvent whose data leaves the CDEvent context out, the envelope giving it', () => {
    const { subject } = released('service_deployed.json');
    const event = { specversion: '1.0', id: 'e-1', source: '/ci', type: 'dev.cdevents.service.deployed.0.2.3', time: '2026-03-02T14:00:00Z', data: { subject } };
    expect(decodeStructured(event).values).toMatchObject([{ id: 'e-1', service: 'myapp', timestamp: Date.parse('2026-03-02T14:00:00Z'), author: { name: '/ci' } }]);
  });
});

describe('refusals: malformed and unsupported CloudEvents', () => {
  const deployed = () => released('service_deployed.json');
  const refusal = (event: unknown) => decodeStructured(event).rejects[0]?.error;

  it.each([
    ['specversion 0.3', { ...structured(deployed()), specversion: '0.3' }, 'CW_CLOUDEVENT_UNSUPPORTED', 'specversion'],
    ['a CloudEvent that is no CDEvent', { ...structured(deployed()), type: 'com.example.thing' }, 'CW_CLOUDEVENT_UNSUPPORTED', 'not a CDEvent'],
    ['a CDEvent type it does not map', structured({ ...deployed(), context: { ...(deployed().context as object), type: 'dev.cdevents.pipelinerun.finished.0.2.0' } }), 'CW_CLOUDEVENT_UNSUPPORTED', 'pipelinerun.finished'],
    ['an unknown major version', structured({ ...deployed(), context: { ...(deployed().context as object), type: 'dev.cdevents.service.deployed.1.0.0' } }), 'CW_CLOUDEVENT_UNSUPPORTED', 'major version 1'],
    ['no id', (({ id: _, ...rest }) => rest)(structured(deployed())), 'CW_CLOUDEVENT_INVALID', 'id: required'],
    ['no data', (({ data: _, ...rest }) => rest)(structured(deployed())), 'CW_CLOUDEVENT_INVALID', 'carries no CDEvent'],
    ['XML data', { ...structured(deployed()), datacontenttype: 'application/xml', data: '<x/>' }, 'CW_CLOUDEVENT_UNSUPPORTED', 'not JSON'],
    ['types that differ', { ...structured(deployed()), type: 'dev.cdevents.service.upgraded.0.2.0' }, 'CW_CLOUDEVENT_INVALID', 'differ'],
    ['no environment', structured({ ...deployed(), subject: { id: 's', type: 'service', content: { artifactId: 'pkg:oci/a@1' } } }), 'CW_CLOUDEVENT_INVALID', 'subject.content.environment.id: required'],
    ['no artifactId on a deploy', structured({ ...deployed(), subject: { id: 's', type: 'service', content: { environment: { id: 'prod' } } } }), 'CW_CLOUDEVENT_INVALID', 'artifactId: required'],
    ['an upper-case extension', { ...structured(deployed()), AIAgent: 'kiro' }, 'CW_CLOUDEVENT_INVALID', 'lowercase'],
    ['an implausible time', structured({ ...deployed(), context: { ...(deployed().context as object), timestamp: '1970-01-01T00:00:01Z' } }), 'CW_EVENT_TIMESTAMP', 'outside 2000..2100'],
  ])('%s', (_what, event, code, words) => {
    expect(refusal(event)).toMatchObject({ code, message: expect.stringContaining(words) });
  });

  it('refuses binary-mode data that is not JSON, and batch mode, without throwing', () => {
    const headers = binaryHeaders(deployed());
    expect(decodeChangeMessage(Buffer.from('{"context":'), headers, 10_000).rejects[0]!.error.code).toBe('CW_CLOUDEVENT_INVALID');
    expect(decodeChangeMessage(Buffer.from('[]'), { 'content-type': 'application/cloudevents-batch+json' }, 10_000).rejects[0]!.error.code).toBe('CW_CLOUDEVENT_UNSUPPORTED');
    expect(decodeChangeMessage(Buffer.from('x'.repeat(20_000)), headers, 10_000).rejects[0]!.error.code).toBe('CW_EVENT_TOO_LARGE');
    const noType = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'ce_type'));
    expect(readBinary(noType, Buffer.from(JSON.stringify(deployed())))).toMatchObject({ ok: false, error: { code: 'CW_CLOUDEVENT_INVALID', message: expect.stringContaining('type: required') } });
  });
});
