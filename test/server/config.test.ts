import { describe, expect, it } from 'vitest';
import { problemsOf, yamlFile } from '../support/config-files.ts';
import { loadConfig } from '../../server/config.ts';


describe('loadConfig', () => {
  it('has working defaults and is frozen', () => {
    const config = loadConfig({ env: {} });
    expect(config.port).toBe(8080);
    expect(config.kafka.topics).toEqual({
      changes: 'changewatch.changes',
      telemetry: 'changewatch.telemetry',
      services: 'changewatch.services',
      alerts: 'changewatch.alerts',
      deadletter: 'changewatch.deadletter',
      otlpMetrics: 'otlp_metrics',
    });
    expect(config.otlp).toEqual({ enabled: false, encoding: 'otlp_proto', maxStreams: 50_000, streamIdleMs: 3_600_000 });
    expect(loadConfig({ env: { CHANGEWATCH_OTLP_ENABLED: 'true', CHANGEWATCH_OTLP_ENCODING: 'otlp_json', CHANGEWATCH_TOPIC_OTLP_METRICS: 'otel.metrics' } })).toMatchObject({
      otlp: { enabled: true, encoding: 'otlp_json' },
      kafka: { topics: { otlpMetrics: 'otel.metrics' } },
    });
    expect(Object.isFrozen(config.kafka.topics)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow();
  });

  it('reads YAML with ${VAR} interpolation, then lets the environment override it', () => {
    const file = yamlFile('port: 9000\nkafka:\n  brokers: ["${BROKER}"]\n  groupId: ${GROUP:-cw-default}\nservices:\n  - { name: checkout, dependsOn: [payments] }\n');
    const config = loadConfig({ file, env: { BROKER: 'kafka:9092', PORT: '9100' } });
    expect(config.port).toBe(9100);
    expect(config.kafka.brokers).toEqual(['kafka:9092']);
    expect(config.kafka.groupId).toBe('cw-default');
    expect(config.services).toEqual([{ name: 'checkout', dependsOn: ['payments'] }]);
  });

  it('lists every problem at once', () => {
    const file = yamlFile('port: -1\nkafak: {}\nkafka:\n  brokers: [nohost]\n  maxWaitTimeMs: 0\npipeline:\n  alertThreshold: 3\nnotes: ${UNSET_VAR}\n');
    const problems = problemsOf(() => loadConfig({ file, env: { KAFKA_GROUP_ID: '' } }));
    expect(problems.join('\n')).toMatch(/environment variable UNSET_VAR is not set/);
    expect(problems.some((p) => p.startsWith('port:'))).toBe(true);
    expect(problems.some((p) => p.includes('kafak'))).toBe(true);
    expect(problems.some((p) => p.startsWith('kafka.brokers.0:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('kafka.maxWaitTimeMs:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('pipeline.alertThreshold:'))).toBe(true);
  });

  it('takes effect sizes per metric kind, keeps the defaults of what is left out, and lists every bad one', () => {
    const config = loadConfig({ file: yamlFile('pipeline:\n  effectSizes:\n    latency: { up: 1.5 }\n    rate: { down: null }\n'), env: {} });
    expect(config.pipeline.effectSizes.latency).toEqual({ up: 1.5, down: 0.6, minAbsolute: 0 });
    expect(config.pipeline.effectSizes.rate).toEqual({ up: 1.3, down: null, minAbsolute: 0 });
    expect(config.pipeline.effectSizes.ratio).toEqual({ up: 1.3, down: null, minAbsolute: 0.001 });
    const problems = problemsOf(() => loadConfig({ file: yamlFile('pipeline:\n  effectSizes:\n    latency: { up: 0.8 }\n    ratio: { down: 2, minAbsolute: -1 }\n    temperature: {}\n'), env: {} }));
    expect(problems.some((p) => p.startsWith('pipeline.effectSizes.latency.up:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('pipeline.effectSizes.ratio.down:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('pipeline.effectSizes.ratio.minAbsolute:'))).toBe(true);
    expect(problems.some((p) => p.includes('temperature'))).toBe(true);
  });

  it('loads the configuration users write, ${VAR} references inside flow mappings included', () => {
    const file = yamlFile(`notify:
  - name: oncall
    type: pagerduty
    url: https://events.pagerduty.com/v2/enqueue
    routingKey: \${PD_ROUTING_KEY}
    match: { severity: [critical, warning] }
rollback:
  mode: require-approval
  webhook: { url: https://cd.example.com/rollback, secret: \${ROLLBACK_SECRET} }
  when: { minConfidence: 0.8, authorTypes: [ai_agent], changeTypes: [deploy, config, feature_flag] }
  limits: { perHour: 3, perServicePerHour: 1, cooldownMinutes: 30 }
freeze: { scope: agent }
`);
    // A value with YAML syntax in it stays one string: values never pass through the parser.
    const secret = 'whsec_dGVzdA== # not: a comment, }';
    const config = loadConfig({ file, env: { PD_ROUTING_KEY: 'R0UT1NG', ROLLBACK_SECRET: secret } });
    expect(config.rollback).toMatchObject({ mode: 'require-approval', webhook: { url: 'https://cd.example.com/rollback', secret }, limits: { perHour: 3, perServicePerHour: 1, cooldownMinutes: 30 } });
    expect(config.freeze).toMatchObject({ enabled: true, scope: 'agent', minConfidence: 0.8 });
    expect(loadConfig({ env: {} }).rollback).toMatchObject({ mode: 'require-approval', when: { minConfidence: 0.8, authorTypes: ['ai_agent'] } });
  });

  it('refuses automatic rollbacks with nowhere to send them, and secrets written into the file', () => {
    const problems = problemsOf(() => loadConfig({ file: yamlFile('rollback:\n  mode: automatic\n'), env: {} }));
    expect(problems).toEqual(['rollback.webhook: rollback.webhook is required when mode is automatic']);
    const literal = problemsOf(() => loadConfig({ file: yamlFile('rollback:\n  webhook: { url: https://cd.example.com/rb, secret: whsec_dGVzdA== }\n'), env: {} }));
    expect(literal).toEqual([expect.stringMatching(/^rollback\.webhook\.secret: secrets must come from the environment/)]);
  });

  it('refuses every outbound URL that is not http(s), all at once, naming the scheme but never the URL', () => {
    const file = yamlFile(`notify:
  - { name: local-file, type: webhook, url: "file:///etc/passwd", secret: \${HOOK_SECRET} }
  - { name: chat, type: slack, url: "gopher://hooks.example.com/T0KEN-IN-PATH" }
  - { name: pd, type: pagerduty, url: "not a url", routingKey: \${PD_KEY} }
rollback:
  webhook: { url: "ftp://cd.example.com/rollback", secret: \${ROLLBACK_SECRET} }
`);
    const problems = problemsOf(() => loadConfig({ file, env: { HOOK_SECRET: 'whsec_dGVzdA==', PD_KEY: 'k', ROLLBACK_SECRET: 'whsec_dGVzdA==' } }));
    expect(problems).toEqual([
      'notify.0.url: must be an http:// or https:// URL, not "file:" (changewatch only sends HTTP requests)',
      'notify.1.url: must be an http:// or https:// URL, not "gopher:" (changewatch only sends HTTP requests)',
      'notify.2.url: must be an absolute http:// or https:// URL',
      'rollback.webhook.url: must be an http:// or https:// URL, not "ftp:" (changewatch only sends HTTP requests)',
    ]);
    expect(problems.join('\n')).not.toContain('T0KEN-IN-PATH');
  });

  it('accepts tokens of every role, ingest included', () => {
    const sha256 = 'a'.repeat(64);
    const file = yamlFile(`auth:\n  tokens:\n${['viewer', 'ingest', 'operator', 'admin'].map((role) => `    - { name: ${role}-bot, role: ${role}, sha256: "${sha256}" }`).join('\n')}\n`);
    expect(loadConfig({ file, env: {} }).auth.tokens.map((token) => token.role)).toEqual(['viewer', 'ingest', 'operator', 'admin']);
    expect(problemsOf(() => loadConfig({ file: yamlFile(`auth:\n  tokens:\n    - { name: ci, role: writer, sha256: "${sha256}" }\n`), env: {} }))).toEqual([
      expect.stringMatching(/^auth\.tokens\.0\.role: .*"viewer"\|"ingest"\|"operator"\|"admin"/),
    ]);
  });

  it('picks the store from the environment: DATABASE_URL, else PGlite under CHANGEWATCH_DATA_DIR', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ dataDir: '.changewatch' });
    expect(loadConfig({ env: {} }).databaseUrl).toBeUndefined();
    expect(loadConfig({ env: { CHANGEWATCH_DATA_DIR: '/var/lib/changewatch' } }).dataDir).toBe('/var/lib/changewatch');
    expect(loadConfig({ env: { DATABASE_URL: 'postgres://db/x' } }).databaseUrl).toBe('postgres://db/x');
  });

  it('reports a bad environment override and an unreadable file', () => {
    expect(problemsOf(() => loadConfig({ env: { PORT: 'eighty' } }))).toEqual(['PORT: not a number: "eighty"']);
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/changewatch.yaml', env: {} }))[0]).toMatch(/ENOENT/);
  });
});
