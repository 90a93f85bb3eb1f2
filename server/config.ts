/**
 * Configuration: defaults, then an optional YAML file (`--config` / `CHANGEWATCH_CONFIG`) with
 * `${VAR}` / `${VAR:-default}` interpolation, then environment variables. Validated once at start;
 * every problem is reported together; the result is deeply frozen.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_PIPELINE_OPTIONS } from './pipeline/pipeline.ts';
import { DEFAULT_EFFECT_SIZES, METRIC_KINDS, type EffectSize, type MetricKind } from '../detectors/metric-kind.ts';
import { serviceEntrySchema } from './wire/schemas.ts';
import { createError } from './errors.ts';
import { notifyConfigSchema } from './alerts/notifiers/config.ts';
import { incidentsConfigSchema, maintenanceWindowSchema } from './alerts/stages/config.ts';
import { authConfigSchema } from './auth-config.ts';
import { freezeConfigSchema } from './actions/freeze.ts';
import { rollbackConfigSchema } from './actions/rollback-policy.ts';
import { otlpConfigSchema } from './otlp/config.ts';

const positiveMs = z.number().int().positive();

/**
 * One metric kind's effect size, any field left out keeps the kind's default (`DEFAULT_EFFECT_SIZES`):
 * `up` a factor above 1, `down` a factor in (0, 1), `null` for a direction that never pages.
 */
const effectSizeSchema = z.strictObject({
  up: z.number().gt(1).nullable().optional(),
  down: z.number().gt(0).lt(1).nullable().optional(),
  minAbsolute: z.number().gte(0).optional(),
});

/** `pipeline.effectSizes`: per metric kind, the smallest sustained change that pages (docs/detectors.md). */
const effectSizesSchema = z
  .strictObject(Object.fromEntries(METRIC_KINDS.map((kind) => [kind, effectSizeSchema.optional()])) as Record<MetricKind, z.ZodOptional<typeof effectSizeSchema>>)
  .default({})
  .transform((given) => Object.fromEntries(METRIC_KINDS.map((kind) => [kind, { ...DEFAULT_EFFECT_SIZES[kind], ...stripUndefined(given[kind] ?? {}) }])) as Record<MetricKind, EffectSize>);

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name: letters, digits, ".", "_" or "-"');

/** The schema of the whole configuration; unknown keys are errors so that typos do not pass silently. */
export const configSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8080),
  /** Where people reach the dashboard; used in links sent to pagers. */
  publicUrl: z.url().default('http://localhost:8080'),
  /** Directory for the embedded store and checkpoints. */
  dataDir: z.string().min(1).default('.changewatch'),
  /** PostgreSQL URL; when set it replaces the embedded store. */
  databaseUrl: z.string().startsWith('postgres').optional(),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
  kafka: z
    .strictObject({
      brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).min(1).default(['127.0.0.1:9092']),
      clientId: z.string().min(1).default('changewatch'),
      groupId: z.string().min(1).default('changewatch'),
      topics: z
        .strictObject({
          changes: topicName.default('changewatch.changes'),
          telemetry: topicName.default('changewatch.telemetry'),
          /** OTLP metrics as the OpenTelemetry Collector's Kafka exporter writes them (its default topic name); docs/otel.md. */
          otlpMetrics: topicName.default('otlp_metrics'),
          services: topicName.default('changewatch.services'),
          alerts: topicName.default('changewatch.alerts'),
          deadletter: topicName.default('changewatch.deadletter'),
        })
        .prefault({}),
      /** How long a fetch waits for data; keep ≤ 100 ms where latency matters (the mock broker always waits it out). */
      maxWaitTimeMs: positiveMs.max(10_000).default(100),
      /** Messages larger than this are dead-lettered unread. */
      maxMessageBytes: positiveMs.default(1_048_576),
      /** Events stamped further than this in the future (by the wall clock at ingest) are dead-lettered. */
      maxFutureSkewMs: positiveMs.default(3_600_000),
      /**
       * How often (wall clock) pipeline state is checkpointed and offsets committed. A checkpoint
       * serializes every series' state on the event loop, so more often costs latency; a crash
       * re-processes at most this much input.
       */
      checkpointIntervalMs: positiveMs.default(5_000),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      alertThreshold: z.number().gt(0).lte(1).default(DEFAULT_PIPELINE_OPTIONS.alertThreshold),
      criticalScore: z.number().gt(0).lte(1).default(DEFAULT_PIPELINE_OPTIONS.criticalScore),
      criticalDeviation: z.number().gt(0).default(DEFAULT_PIPELINE_OPTIONS.criticalDeviation),
      maxSeries: z.number().int().positive().default(DEFAULT_PIPELINE_OPTIONS.maxSeries),
      seriesIdleMs: positiveMs.default(DEFAULT_PIPELINE_OPTIONS.seriesIdleMs),
      resolveAfterMs: positiveMs.default(DEFAULT_PIPELINE_OPTIONS.resolveAfterMs),
      maxLatenessMs: positiveMs.default(DEFAULT_PIPELINE_OPTIONS.maxLatenessMs),
      reemitEveryMs: positiveMs.default(DEFAULT_PIPELINE_OPTIONS.reemitEveryMs),
      reattributeEveryMs: positiveMs.default(DEFAULT_PIPELINE_OPTIONS.reattributeEveryMs),
      silenceCheckEveryMs: positiveMs.default(DEFAULT_PIPELINE_OPTIONS.silenceCheckEveryMs),
      defaultEnvironment: z.string().min(1).default(DEFAULT_PIPELINE_OPTIONS.defaultEnvironment),
      effectSizes: effectSizesSchema,
    })
    .prefault({}),
  /** OpenTelemetry metrics in (the Kafka topic `kafka.topics.otlpMetrics`, POST /v1/metrics); docs/otel.md. */
  otlp: otlpConfigSchema.prefault({}),
  /** The service catalog (more entries may arrive on the services topic). */
  services: z.array(serviceEntrySchema).default([]),
  /** Where incidents are sent (PagerDuty, Slack, signed webhooks); see docs/notifications.md. */
  notify: notifyConfigSchema.default([]),
  /** How alerts group into incidents and when incidents notify; see docs/incidents.md. */
  incidents: incidentsConfigSchema,
  /** Planned windows during which matching incidents are recorded but not paged. */
  maintenance: z.array(maintenanceWindowSchema).default([]),
  /** API tokens (SHA-256 hashes) and whether reads are anonymous. */
  auth: authConfigSchema.prefault({}),
  /** When and how changewatch rolls back an implicated change; see docs/actions.md. */
  rollback: rollbackConfigSchema.prefault({}),
  /** Freezing AI-authored changes after an AI change caused an incident; see docs/actions.md. */
  freeze: freezeConfigSchema.prefault({}),
});

/** The validated, frozen configuration. */
export type Config = Readonly<z.infer<typeof configSchema>>;

/** Where configuration comes from; tests pass these explicitly instead of touching process state. */
export interface ConfigSources {
  /** Path of the YAML file, if any. */
  file?: string;
  /** Environment used for `${VAR}` interpolation and overrides. */
  env: NodeJS.ProcessEnv;
}

/** Loads, validates and freezes the configuration; throws CW_CONFIG_INVALID listing every problem. */
export function loadConfig(sources: ConfigSources): Config {
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  const file = sources.file ?? sources.env.CHANGEWATCH_CONFIG;
  if (file) {
    try {
      const parsed = parseWithReferences(readFileSync(file, 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${file}: the top level must be a mapping`);
        else {
          requireSecretsFromEnv(parsed as Record<string, unknown>, problems);
          fromFile = interpolate(parsed, sources.env, problems, []) as Record<string, unknown>;
        }
      }
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const merged = applyEnv(fromFile, sources.env, problems);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (problems.length || !result.success) {
    throw createError('CW_CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return deepFreeze(result.data);
}

/** `${VAR}` and `${VAR:-default}` references. */
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Parses YAML whose scalars may hold `${VAR}` references. In a flow mapping such as
 * `webhook: { url: ..., secret: ${ROLLBACK_SECRET} }` the `{` of a reference would start a nested
 * mapping, so references become placeholders for the parse and are put back in the parsed strings,
 * where `interpolate` resolves them. Values never pass through the YAML parser, so a value with
 * `#`, `: ` or a newline cannot change the file's structure.
 */
function parseWithReferences(text: string): unknown {
  const references: string[] = [];
  const masked = text.replace(ENV_REFERENCE, (reference) => `__cw_ref_${references.push(reference) - 1}__`);
  const restore = (node: unknown): unknown => {
    if (typeof node === 'string') return node.replace(/__cw_ref_(\d+)__/g, (placeholder, index: string) => references[Number(index)] ?? placeholder);
    if (Array.isArray(node)) return node.map(restore);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, restore(v)]));
    return node;
  };
  return restore(parseYaml(masked));
}

/** Keys of `notify:` entries that hold secrets: the file may only reference them as `${VAR}`. */
const SECRET_NOTIFY_KEYS = ['routingKey', 'secret', 'token', 'bearerToken'] as const;

/** Notes every secret (notify keys, the rollback webhook's secret) written literally in the file (it would end up in version control and backups). */
function requireSecretsFromEnv(file: Record<string, unknown>, problems: string[]): void {
  const check = (value: unknown, path: string): void => {
    if (typeof value === 'string' && !/\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(value)) {
      problems.push(`${path}: secrets must come from the environment: write \${SOME_VAR}, not the value`);
    }
  };
  if (Array.isArray(file.notify)) {
    file.notify.forEach((entry: unknown, index) => {
      if (!entry || typeof entry !== 'object') return;
      for (const key of SECRET_NOTIFY_KEYS) check((entry as Record<string, unknown>)[key], `notify.${index}.${key}`);
      const basicAuth = (entry as { basicAuth?: unknown }).basicAuth;
      if (basicAuth && typeof basicAuth === 'object') check((basicAuth as Record<string, unknown>).password, `notify.${index}.basicAuth.password`);
    });
  }
  const rollbackWebhook = (file.rollback as { webhook?: unknown } | undefined)?.webhook;
  if (rollbackWebhook && typeof rollbackWebhook === 'object') check((rollbackWebhook as Record<string, unknown>).secret, 'rollback.webhook.secret');
}

/** Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree, noting unset variables. */
function interpolate(node: unknown, env: NodeJS.ProcessEnv, problems: string[], path: string[]): unknown {
  if (typeof node === 'string') {
    return node.replace(ENV_REFERENCE, (_, name: string, fallback: string | undefined) => {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problems.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(node)) return node.map((item, i) => interpolate(item, env, problems, [...path, String(i)]));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolate(v, env, problems, [...path, k])]));
  }
  return node;
}

/** Environment variables that override the file, and where they go. */
const ENV_OVERRIDES: Array<{ name: string; path: string[]; parse: (raw: string) => unknown }> = [
  { name: 'PORT', path: ['port'], parse: Number },
  { name: 'PUBLIC_URL', path: ['publicUrl'], parse: String },
  { name: 'CHANGEWATCH_DATA_DIR', path: ['dataDir'], parse: String },
  { name: 'DATABASE_URL', path: ['databaseUrl'], parse: String },
  { name: 'LOG_LEVEL', path: ['log', 'level'], parse: String },
  { name: 'KAFKA_BROKERS', path: ['kafka', 'brokers'], parse: (raw) => raw.split(',').map((b) => b.trim()).filter(Boolean) },
  { name: 'KAFKA_GROUP_ID', path: ['kafka', 'groupId'], parse: String },
  { name: 'KAFKA_CLIENT_ID', path: ['kafka', 'clientId'], parse: String },
  { name: 'KAFKA_MAX_WAIT_MS', path: ['kafka', 'maxWaitTimeMs'], parse: Number },
  { name: 'KAFKA_CHECKPOINT_INTERVAL_MS', path: ['kafka', 'checkpointIntervalMs'], parse: Number },
  { name: 'CHANGEWATCH_TOPIC_CHANGES', path: ['kafka', 'topics', 'changes'], parse: String },
  { name: 'CHANGEWATCH_TOPIC_TELEMETRY', path: ['kafka', 'topics', 'telemetry'], parse: String },
  { name: 'CHANGEWATCH_TOPIC_SERVICES', path: ['kafka', 'topics', 'services'], parse: String },
  { name: 'CHANGEWATCH_TOPIC_ALERTS', path: ['kafka', 'topics', 'alerts'], parse: String },
  { name: 'CHANGEWATCH_TOPIC_DEADLETTER', path: ['kafka', 'topics', 'deadletter'], parse: String },
  { name: 'CHANGEWATCH_TOPIC_OTLP_METRICS', path: ['kafka', 'topics', 'otlpMetrics'], parse: String },
  { name: 'CHANGEWATCH_OTLP_ENABLED', path: ['otlp', 'enabled'], parse: (raw) => (raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw) },
  { name: 'CHANGEWATCH_OTLP_ENCODING', path: ['otlp', 'encoding'], parse: String },
];

function applyEnv(base: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): Record<string, unknown> {
  const out = structuredClone(base);
  for (const { name, path, parse } of ENV_OVERRIDES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = parse(raw);
    if (typeof value === 'number' && !Number.isFinite(value)) {
      problems.push(`${name}: not a number: ${JSON.stringify(raw)}`);
      continue;
    }
    let node = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = (next && typeof next === 'object' && !Array.isArray(next) ? next : (node[key] = {})) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
