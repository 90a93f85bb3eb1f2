/**
 * The hostile inputs of the fuzz scenario (bench/chaos/fuzz.ts), one `HostileCase` per kind, each
 * with the error code the service must answer it with: malformed JSON and binary garbage, schema
 * violations (types, lengths, counts, prototype keys), bad timestamps, oversized messages, late
 * points, points over `pipeline.maxSeries`, arrays mixing good and bad items, deep nesting, and
 * refused HTTP requests. Cases marked `knownBug` break the service today (docs/reliability.md): the
 * corpus leaves them out, and `--known-bugs` sends each once, alone, after the corpus (a probe).
 *
 * Every dead letter must be traceable to the input it came from: each input carries a marker
 * `FZ<id>Z` in its bytes (or, where the dead letter's value has no room for one, in the message key,
 * or as the point's `count`); `identifyDeadLetter` reads it back.
 */
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import type { ErrorCode } from '../../server/errors.ts';
import type { RandomSource } from '../../server/alerts/delivery/backoff.ts';

/** Where a hostile input goes in. */
export type Channel = 'telemetry' | 'changes' | 'services' | 'http-item' | 'http-request';

/** A dead letter the service must produce: its marker tag and error code. */
export interface ExpectedDeadLetter {
  tag: string;
  code: ErrorCode;
}

/** A hostile Kafka message, with the valid items it carries (array messages) and the dead letters it must yield. */
export interface HostileMessage {
  channel: 'telemetry' | 'changes' | 'services';
  key: string | null;
  value: string | Buffer | null;
  deadLetters: ExpectedDeadLetter[];
  /** Valid items inside it (an array mixing good and bad items); each must be processed. */
  validItems: number;
  /** Items the pipeline looks at and refuses (late, over maxSeries): they count as processed and as dead letters. */
  refusedByPipeline: number;
}

/** A hostile record inside a POST /api/v1/events body. */
export interface HostileItem {
  channel: 'http-item';
  item: unknown;
  /** The code it must be refused with in the 202 answer's `rejected`; absent when the HTTP edge accepts it (the pipeline refuses it later). */
  inline?: ErrorCode;
  deadLetter: ExpectedDeadLetter;
  refusedByPipeline: number;
}

/** A POST /api/v1/events that must be refused as a whole, with nothing dead-lettered. */
export interface HostileRequest {
  channel: 'http-request';
  headers: Record<string, string>;
  body: string;
  status: number;
  code: ErrorCode | 'accepted';
  /** For `code: 'accepted'`: the code the only record must be refused with in `rejected`. */
  itemCode?: ErrorCode;
  /** Dead letters it must yield (only an accepted request's refused record has one). */
  deadLetters: ExpectedDeadLetter[];
}

/** What one case builds. */
export type Hostile = HostileMessage | HostileItem | HostileRequest;

/** The state cases draw valid neighbours and timestamps from. */
export interface CorpusState {
  /** The series tracked (exactly `pipeline.maxSeries` of them, so any new series is refused). */
  readonly warm: ReadonlyArray<{ service: string; metric: string }>;
  /** A timestamp more than `maxLatenessMs` older than every warm series' newest point. */
  readonly lateTimestamp: number;
  /** `kafka.maxMessageBytes` of the service under test. */
  readonly maxMessageBytes: number;
  readonly random: RandomSource;
  /** The next valid point of a warm series (timestamps only increase). */
  validPoint(): TelemetryPoint;
  /** A valid change of a warm service at the current event time. */
  validChange(): ChangeEvent;
  /** A valid catalog entry. */
  validService(): ServiceEntry;
  /** A fresh marker id (array items get one each). */
  nextId(): number;
}

/** One kind of hostile input. */
export interface HostileCase {
  name: string;
  channel: Channel;
  /** Relative frequency in the corpus. */
  weight: number;
  /** Set for inputs that break the service today: what goes wrong. */
  knownBug?: string;
  build(id: number, state: CorpusState): Hostile;
}

/** The `count` of a late point carries its marker id above this (no valid point has a count). */
export const COUNT_MARKER_BASE = 7_000_000_000;

/** The marker of input `id`. */
export function marker(id: number): string {
  return `FZ${id}Z`;
}

/** Reads the tag of a dead letter back from its value, key, item index or count; undefined for an unmarked one (a valid item refused). */
export function identifyDeadLetter(key: Buffer | null, value: Buffer | null, itemIndex: string | undefined): string | undefined {
  const text = value?.toString('latin1') ?? '';
  const inValue = /FZ(\d+)Z/.exec(text);
  if (inValue) return inValue[1];
  const inKey = key ? /^FZ(\d+)Z$/.exec(key.toString('latin1')) : null;
  if (inKey) return itemIndex === undefined ? inKey[1] : `${inKey[1]}.${itemIndex}`;
  try {
    const count = (JSON.parse(text) as { count?: unknown }).count;
    if (typeof count === 'number' && count >= COUNT_MARKER_BASE) return String(count - COUNT_MARKER_BASE);
  } catch {
    // Not JSON: not a marked point.
  }
  return undefined;
}

const DAY_MS = 86_400_000;

/** A Kafka message case refused whole with `code`; `value` builds its bytes from the marker. */
function whole(name: string, channel: HostileMessage['channel'], weight: number, code: ErrorCode, value: (mark: string, state: CorpusState) => string | Buffer | null): HostileCase {
  return {
    name,
    channel,
    weight,
    build: (id, state) => ({ channel, key: marker(id), value: value(marker(id), state), deadLetters: [{ tag: String(id), code }], validItems: 0, refusedByPipeline: 0 }),
  };
}

/** A telemetry point of a warm series with `overrides` (the marker goes where the case puts it). */
function pointWith(state: CorpusState, overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...state.validPoint(), ...overrides };
}

/** A padded JSON object just over the size limit. */
function oversized(mark: string, state: CorpusState, prefix: string): string {
  return `${prefix}"pad":"${'x'.repeat(state.maxMessageBytes + 100)}","marker":"${mark}"}`;
}

/** JSON nested `depth` arrays deep, `inner` innermost. */
export function deepArray(depth: number, inner = ''): string {
  return '['.repeat(depth) + inner + ']'.repeat(depth);
}

/** Every hostile case. */
export const HOSTILE_CASES: readonly HostileCase[] = [
  // ---- telemetry topic: not JSON --------------------------------------------------------------
  whole('truncated-json', 'telemetry', 3, 'CW_EVENT_INVALID_JSON', (m) => `{"service":"${m}","metric":"latency","value":`),
  whole('binary-garbage', 'telemetry', 2, 'CW_EVENT_INVALID_JSON', (m, s) => Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(Array.from({ length: 24 }, () => Math.floor(s.random() * 256))), Buffer.from(m), Buffer.from([0x00, 0xc3])])),
  whole('nan-literal', 'telemetry', 2, 'CW_EVENT_INVALID_JSON', (m, s) => `{"service":"${m}","metric":"latency","value":NaN,"timestamp":${s.validPoint().timestamp}}`),
  whole('bom-prefixed', 'telemetry', 1, 'CW_EVENT_INVALID_JSON', (m, s) => `\uFEFF${JSON.stringify(pointWith(s, { metric: m }))}`),
  whole('trailing-garbage', 'telemetry', 2, 'CW_EVENT_INVALID_JSON', (m, s) => `${JSON.stringify(pointWith(s, { metric: m }))}}`),
  whole('single-quotes', 'telemetry', 1, 'CW_EVENT_INVALID_JSON', (m) => `{'service':'${m}','metric':'latency','value':1}`),
  whole('tombstone', 'telemetry', 1, 'CW_EVENT_INVALID_JSON', () => null),
  whole('empty-value', 'telemetry', 1, 'CW_EVENT_INVALID_JSON', () => ''),
  // ---- telemetry topic: schema ------------------------------------------------------------------
  whole('value-string', 'telemetry', 3, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, value: 'high' }))),
  whole('value-infinity', 'telemetry', 2, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, value: 0 })).replace('"value":0', '"value":1e999')),
  whole('value-null', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, value: null }))),
  whole('value-object', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, value: { valueOf: 1 } }))),
  whole('missing-metric', 'telemetry', 2, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify({ service: m, value: 1, timestamp: s.validPoint().timestamp })),
  whole('blank-service', 'telemetry', 2, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { service: '   ', metric: m }))),
  whole('long-name', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { service: 'x'.repeat(201), metric: m }))),
  whole('too-many-tags', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, tags: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`t${i}`, 'v'])) }))),
  whole('tag-not-string', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, tags: { pod: 7 } }))),
  whole('proto-tags', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m })).replace(/}$/, ',"tags":{"__proto__":{"polluted":"yes"}}}')),
  whole('proto-tag-string', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m })).replace(/}$/, ',"tags":{"__proto__":"x"}}')),
  whole('constructor-prototype', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, tags: { constructor: { prototype: { polluted: 'yes' } } } }))),
  whole('count-negative', 'telemetry', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m, count: -1 }))),
  {
    name: 'json-primitive',
    channel: 'telemetry',
    weight: 2,
    build: (id, state) => ({ channel: 'telemetry', key: marker(id), value: ['42', '"text"', 'true', 'null', '-0'][Math.floor(state.random() * 5)]!, deadLetters: [{ tag: String(id), code: 'CW_EVENT_SCHEMA' }], validItems: 0, refusedByPipeline: 0 }),
  },
  whole('deep-object', 'telemetry', 0.5, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify(pointWith(s, { metric: m })).replace(/}$/, `,"tags":{"deep":${deepArray(3_000)}}}`)),
  // ---- telemetry topic: timestamps --------------------------------------------------------------
  whole('timestamp-seconds', 'telemetry', 3, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: 1_700_000_000 }))),
  whole('timestamp-garbage', 'telemetry', 2, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: '2026-13-45T99:00:00Z' }))),
  whole('timestamp-1970', 'telemetry', 1, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: 0 }))),
  whole('timestamp-2200', 'telemetry', 1, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: Date.UTC(2200, 0, 1) }))),
  whole('timestamp-negative', 'telemetry', 1, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: -1 }))),
  whole('timestamp-missing', 'telemetry', 1, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: undefined }))),
  whole('timestamp-future', 'telemetry', 2, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify(pointWith(s, { metric: m, timestamp: Date.now() + 7 * DAY_MS }))),
  // ---- telemetry topic: size --------------------------------------------------------------------
  whole('too-large', 'telemetry', 0.3, 'CW_EVENT_TOO_LARGE', (m, s) => oversized(m, s, '{"service":"checkout","metric":"latency","value":1,')),
  whole('too-large-garbage', 'telemetry', 0.1, 'CW_EVENT_TOO_LARGE', (m, s) => `${oversized(m, s, '{{{')}`),
  // ---- telemetry topic: refused by the pipeline -------------------------------------------------
  {
    name: 'late',
    channel: 'telemetry',
    weight: 4,
    build: (id, state) => {
      const { service, metric } = state.warm[Math.floor(state.random() * state.warm.length)]!;
      // The dead letter is the point rebuilt from its series: only the count can carry the marker.
      const point = { service, metric, value: 100, timestamp: state.lateTimestamp, count: COUNT_MARKER_BASE + id };
      return { channel: 'telemetry', key: service, value: JSON.stringify(point), deadLetters: [{ tag: String(id), code: 'CW_EVENT_LATE' }], validItems: 0, refusedByPipeline: 1 };
    },
  },
  {
    name: 'new-series',
    channel: 'telemetry',
    weight: 4,
    build: (id, state) => {
      const point = pointWith(state, { metric: marker(id) });
      return { channel: 'telemetry', key: String(point.service), value: JSON.stringify(point), deadLetters: [{ tag: String(id), code: 'CW_SERIES_LIMIT' }], validItems: 0, refusedByPipeline: 1 };
    },
  },
  {
    name: 'new-series-by-tag',
    channel: 'telemetry',
    weight: 2,
    build: (id, state) => {
      const point = pointWith(state, { tags: { pod: marker(id) } });
      return { channel: 'telemetry', key: String(point.service), value: JSON.stringify(point), deadLetters: [{ tag: String(id), code: 'CW_SERIES_LIMIT' }], validItems: 0, refusedByPipeline: 1 };
    },
  },
  // ---- telemetry topic: arrays --------------------------------------------------------------------
  {
    name: 'mixed-array',
    channel: 'telemetry',
    weight: 3,
    build: (id, state) => {
      const bad = [state.nextId(), state.nextId()];
      const items = [state.validPoint(), pointWith(state, { metric: marker(bad[0]!), value: 'NaN' }), state.validPoint(), { service: marker(bad[1]!), nope: true }];
      return {
        channel: 'telemetry',
        key: marker(id),
        value: JSON.stringify(items),
        deadLetters: [
          { tag: String(bad[0]), code: 'CW_EVENT_SCHEMA' },
          { tag: String(bad[1]), code: 'CW_EVENT_SCHEMA' },
        ],
        validItems: 2,
        refusedByPipeline: 0,
      };
    },
  },
  {
    name: 'array-bomb',
    channel: 'telemetry',
    weight: 0.04,
    build: (id) => {
      // One message, 500 dead letters: each item is named by the key's marker and its index.
      const items = 500;
      return { channel: 'telemetry', key: marker(id), value: `[${Array.from({ length: items }, () => '{}').join(',')}]`, deadLetters: Array.from({ length: items }, (_, i) => ({ tag: `${id}.${i}`, code: 'CW_EVENT_SCHEMA' as const })), validItems: 0, refusedByPipeline: 0 };
    },
  },
  {
    name: 'deep-array-item',
    channel: 'telemetry',
    weight: 0.1,
    build: (id) => ({ channel: 'telemetry', key: marker(id), value: `[${deepArray(20_000)}]`, deadLetters: [{ tag: `${id}.0`, code: 'CW_EVENT_SCHEMA' }], validItems: 0, refusedByPipeline: 0 }),
  },
  // ---- changes topic ------------------------------------------------------------------------------
  whole('change-invalid-json', 'changes', 2, 'CW_EVENT_INVALID_JSON', (m) => `{"id":"${m}","type":"deploy",`),
  whole('change-robot-author', 'changes', 2, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify({ ...s.validChange(), id: m, author: { type: 'robot', name: 'r2' } })),
  whole('change-missing-id', 'changes', 2, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify({ ...s.validChange(), id: undefined, summary: m })),
  whole('change-bad-type', 'changes', 2, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify({ ...s.validChange(), id: m, type: 'yolo' })),
  whole('change-long-summary', 'changes', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify({ ...s.validChange(), id: m, summary: 's'.repeat(2_001) })),
  whole('change-reviewers', 'changes', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.stringify({ ...s.validChange(), id: m, author: { type: 'human', name: 'h', reviewedBy: Array.from({ length: 51 }, (_, i) => `r${i}`) } })),
  whole('change-timestamp-seconds', 'changes', 2, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify({ ...s.validChange(), id: m, timestamp: 1_700_000_000 })),
  whole('change-future', 'changes', 2, 'CW_EVENT_TIMESTAMP', (m, s) => JSON.stringify({ ...s.validChange(), id: m, timestamp: Date.now() + 7 * DAY_MS })),
  whole('change-too-large', 'changes', 0.1, 'CW_EVENT_TOO_LARGE', (m, s) => oversized(m, s, '{"id":"x","type":"deploy",')),
  {
    name: 'change-array-mixed',
    channel: 'changes',
    weight: 1,
    build: (id, state) => {
      const bad = state.nextId();
      return { channel: 'changes', key: marker(id), value: JSON.stringify([state.validChange(), { ...state.validChange(), id: marker(bad), type: 'unknown' }]), deadLetters: [{ tag: String(bad), code: 'CW_EVENT_SCHEMA' }], validItems: 1, refusedByPipeline: 0 };
    },
  },
  // ---- services topic ------------------------------------------------------------------------------
  whole('service-invalid-json', 'services', 2, 'CW_EVENT_INVALID_JSON', (m) => `{"name":"${m}","dependsOn":[`),
  whole('service-missing-name', 'services', 2, 'CW_EVENT_SCHEMA', (m) => JSON.stringify({ dependsOn: [m] })),
  whole('service-depends-on-string', 'services', 2, 'CW_EVENT_SCHEMA', (m) => JSON.stringify({ name: 'checkout', dependsOn: m })),
  whole('service-depends-on-501', 'services', 1, 'CW_EVENT_SCHEMA', (m) => JSON.stringify({ name: m, dependsOn: Array.from({ length: 501 }, (_, i) => `d${i}`) })),
  whole('service-name-number', 'services', 1, 'CW_EVENT_SCHEMA', (m) => JSON.stringify({ name: 42, dependsOn: [m] })),
  whole('service-too-large', 'services', 0.1, 'CW_EVENT_TOO_LARGE', (m, s) => oversized(m, s, '{"name":"x",')),
  // ---- POST /api/v1/events: refused records ----------------------------------------------------------
  item('http-string-record', 2, 'CW_EVENT_SCHEMA', (m) => m),
  item('http-array-record', 1, 'CW_EVENT_SCHEMA', (m) => [m]),
  item('http-two-keys', 2, 'CW_EVENT_SCHEMA', (m, s) => ({ metric: s.validPoint(), change: { id: m } })),
  item('http-unknown-key', 2, 'CW_EVENT_SCHEMA', (m) => ({ [m]: {} })),
  item('http-proto-key', 1, 'CW_EVENT_SCHEMA', (m, s) => JSON.parse(`{"__proto__":{"metric":${JSON.stringify(pointWith(s, { metric: m }))}}}`) as unknown),
  item('http-metric-schema', 2, 'CW_EVENT_SCHEMA', (m) => ({ metric: { service: m } })),
  item('http-metric-timestamp', 2, 'CW_EVENT_TIMESTAMP', (m, s) => ({ metric: pointWith(s, { metric: m, timestamp: 1_700_000_000 }) })),
  item('http-metric-future', 1, 'CW_EVENT_TIMESTAMP', (m, s) => ({ metric: pointWith(s, { metric: m, timestamp: Date.now() + 7 * DAY_MS }) })),
  item('http-change-schema', 2, 'CW_EVENT_SCHEMA', (m, s) => ({ change: { ...s.validChange(), id: m, author: { type: 'robot', name: 'r2' } } })),
  item('http-service-schema', 1, 'CW_EVENT_SCHEMA', (m) => ({ service: { dependsOn: [m] } })),
  {
    name: 'http-late',
    channel: 'http-item',
    weight: 1,
    build: (id, state) => {
      const { service, metric } = state.warm[Math.floor(state.random() * state.warm.length)]!;
      return { channel: 'http-item', item: { metric: { service, metric, value: 100, timestamp: state.lateTimestamp, count: COUNT_MARKER_BASE + id } }, deadLetter: { tag: String(id), code: 'CW_EVENT_LATE' }, refusedByPipeline: 1 };
    },
  },
  {
    name: 'http-new-series',
    channel: 'http-item',
    weight: 1,
    build: (id, state) => ({ channel: 'http-item', item: { metric: pointWith(state, { metric: marker(id) }) }, deadLetter: { tag: String(id), code: 'CW_SERIES_LIMIT' }, refusedByPipeline: 1 }),
  },
  // ---- POST /api/v1/events: refused requests -----------------------------------------------------------
  request('req-invalid-json', 1, {}, (m) => `{"events":[{"metric":{"service":"${m}"`, 400, 'CW_EVENT_INVALID_JSON'),
  request('req-json-primitive', 0.5, {}, (m) => `"${m}"`, 400, 'CW_EVENT_INVALID_JSON'),
  request('req-events-not-array', 0.5, {}, (m) => JSON.stringify({ events: m }), 400, 'CW_BAD_REQUEST'),
  request('req-proto-events', 0.3, {}, (m) => `{"__proto__":{"events":[${JSON.stringify(m)}]}}`, 400, 'CW_BAD_REQUEST'),
  request('req-empty-body', 0.3, {}, () => '', 400, 'CW_BAD_REQUEST'),
  request('req-too-many-records', 0.1, {}, () => `[${Array.from({ length: 5_001 }, () => '0').join(',')}]`, 400, 'CW_BAD_REQUEST'),
  request('req-too-large', 0.1, {}, (m, s) => JSON.stringify({ events: [m, 'x'.repeat(s.maxMessageBytes * 4 + 100)] }), 413, 'CW_EVENT_TOO_LARGE'),
  request('req-bad-charset', 0.3, { 'content-type': 'application/json; charset=latin1' }, (m) => JSON.stringify([m]), 400, 'CW_BAD_REQUEST'),
  request('req-unknown-encoding', 0.3, { 'content-encoding': 'zstd' }, (m) => m, 400, 'CW_BAD_REQUEST'),
  request('req-gzip-garbage', 0.2, { 'content-encoding': 'gzip' }, (m) => `not gzip ${m}`, 400, 'CW_BAD_REQUEST'),
  {
    name: 'req-deep-record',
    channel: 'http-request',
    weight: 0.1,
    // The marker sits innermost: a dead letter of the whole record carries it.
    build: (id) => ({ channel: 'http-request', headers: {}, body: `{"events":[${deepArray(6_000, `"${marker(id)}"`)}]}`, status: 202, code: 'accepted', itemCode: 'CW_EVENT_SCHEMA', deadLetters: [{ tag: String(id), code: 'CW_EVENT_SCHEMA' }] }),
  },
];

/** An HTTP record case refused by the HTTP edge with `code` (in the answer and as a dead letter). */
function item(name: string, weight: number, code: ErrorCode, record: (mark: string, state: CorpusState) => unknown): HostileCase {
  return { name, channel: 'http-item', weight, build: (id, state) => ({ channel: 'http-item', item: record(marker(id), state), inline: code, deadLetter: { tag: String(id), code }, refusedByPipeline: 0 }) };
}

/** An HTTP request case refused whole with `status` and `code`. */
function request(name: string, weight: number, headers: Record<string, string>, body: (mark: string, state: CorpusState) => string, status: number, code: ErrorCode): HostileCase {
  return { name, channel: 'http-request', weight, build: (id, state) => ({ channel: 'http-request', headers, body: body(marker(id), state), status, code, deadLetters: [] }) };
}

/** The cases that break the service today, HTTP requests first (a stalled partition would hold up the probes after it). */
export function knownBugCases(): HostileCase[] {
  const bugs = HOSTILE_CASES.filter((c) => c.knownBug !== undefined);
  return [...bugs.filter((c) => c.channel === 'http-request'), ...bugs.filter((c) => c.channel !== 'http-request')];
}

/** Draws the corpus's cases by weight; known bugs are never drawn. */
export class CaseDrawer {
  private readonly cases: HostileCase[];
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(private readonly random: RandomSource) {
    this.cases = HOSTILE_CASES.filter((c) => c.knownBug === undefined);
    let sum = 0;
    for (const c of this.cases) this.cumulative.push((sum += c.weight));
    this.total = sum;
  }

  /** One case, drawn by weight. */
  draw(): HostileCase {
    const at = this.random() * this.total;
    const index = this.cumulative.findIndex((edge) => at < edge);
    return this.cases[index < 0 ? this.cases.length - 1 : index]!;
  }
}
