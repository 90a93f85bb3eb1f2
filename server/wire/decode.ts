/**
 * Decodes raw event bytes into validated core objects, or into a rejection that says exactly why.
 * Used by every edge (Kafka consumer, HTTP, replay) so that all of them accept and refuse the same things.
 */
import type { z } from 'zod';
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import { createError, type ChangewatchError } from '../errors.ts';
import { changeEventSchema, describeIssues, fastTelemetryPoint, serviceEntrySchema, telemetryPointSchema, type ReplayRecord } from './schemas.ts';

/** The outcome of decoding one event: the value, or the error that sends it to the dead-letter topic. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: ChangewatchError };

/** A telemetry message may carry an array: each item succeeds or fails on its own. */
export interface DecodedBatch<T> {
  values: T[];
  /** For a message that held an array: each value's index in it (items that failed leave gaps). */
  indexes?: number[];
  /** Items that failed, with their index in the array (or -1 when the whole message failed) and their own bytes. */
  rejects: Array<{ index: number; error: ChangewatchError; original: string | Buffer }>;
}

/** Which kinds of event exist, by the topic or record key that carries them. */
export type EventKind = 'change' | 'metric' | 'service';

/** Parses JSON after checking the size limit; never throws. */
export function parseJson(bytes: Buffer | string, maxBytes: number): Decoded<unknown> {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > maxBytes) {
    return { ok: false, error: createError('CW_EVENT_TOO_LARGE', `event is ${size} bytes, over the ${maxBytes}-byte limit`, { size, maxBytes }) };
  }
  try {
    return { ok: true, value: JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8')) };
  } catch (err) {
    return { ok: false, error: createError('CW_EVENT_INVALID_JSON', `not valid JSON: ${(err as Error).message}`) };
  }
}

const SCHEMAS = {
  change: changeEventSchema,
  metric: telemetryPointSchema,
  service: serviceEntrySchema,
} satisfies Record<EventKind, z.ZodType>;

type ValueOf<K extends EventKind> = K extends 'change' ? ChangeEvent : K extends 'metric' ? TelemetryPoint : ServiceEntry;

/** Validates an already parsed value as one event of `kind`. */
export function validateEvent<K extends EventKind>(kind: K, value: unknown): Decoded<ValueOf<K>> {
  if (kind === 'metric') {
    const point = fastTelemetryPoint(value);
    if (point) return { ok: true, value: point as ValueOf<K> };
  }
  const result = SCHEMAS[kind].safeParse(value);
  if (result.success) return { ok: true, value: result.data as ValueOf<K> };
  const problems = describeIssues(result.error);
  // A bad timestamp gets its own code: it is the most common producer bug and worth counting apart.
  const onlyTime = result.error.issues.every((i) => i.path[0] === 'timestamp');
  return {
    ok: false,
    error: createError(onlyTime ? 'CW_EVENT_TIMESTAMP' : 'CW_EVENT_SCHEMA', `invalid ${kind}: ${problems.join('; ')}`, { problems }),
  };
}

/** Decodes a message that holds one event or a JSON array of them (the telemetry topic). */
export function decodeMany<K extends EventKind>(kind: K, bytes: Buffer | string, maxBytes: number): DecodedBatch<ValueOf<K>> {
  const parsed = parseJson(bytes, maxBytes);
  if (!parsed.ok) return { values: [], rejects: [{ index: -1, error: parsed.error, original: bytes }] };
  return validateMany(kind, parsed.value, bytes);
}

/** `decodeMany` after parsing: validates a parsed message (`bytes` are its original, for rejects). */
export function validateMany<K extends EventKind>(kind: K, parsed: unknown, bytes: Buffer | string): DecodedBatch<ValueOf<K>> {
  if (!Array.isArray(parsed)) {
    const one = validateEvent(kind, parsed);
    return one.ok ? { values: [one.value], rejects: [] } : { values: [], rejects: [{ index: -1, error: one.error, original: bytes }] };
  }
  const batch: DecodedBatch<ValueOf<K>> = { values: [], indexes: [], rejects: [] };
  parsed.forEach((item, index) => {
    const one = validateEvent(kind, item);
    if (one.ok) {
      batch.values.push(one.value);
      batch.indexes!.push(index);
    } else batch.rejects.push({ index, error: one.error, original: jsonOf(item) });
  });
  return batch;
}

/**
 * The JSON of a parsed value, for the dead letter of a refused array item or HTTP record. A value
 * nested too deeply for JSON.stringify (it recurses: a 40 KB item of nested arrays overflows its
 * stack, which, thrown on the fetch thread, stalled the partition for good) is encoded without
 * recursion instead, so the dead letter still holds the exact item.
 */
export function jsonOf(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return encodeWithoutRecursion(value);
  }
}

/** JSON.stringify for parsed JSON (arrays, plain objects, primitives) with an explicit stack instead of recursion. */
function encodeWithoutRecursion(root: unknown): string {
  const out: string[] = [];
  // Each entry is a value still to encode, or a literal piece of punctuation to write as is.
  const stack: Array<{ value: unknown } | { piece: string }> = [{ value: root }];
  while (stack.length) {
    const next = stack.pop()!;
    if ('piece' in next) {
      out.push(next.piece);
      continue;
    }
    const { value } = next;
    if (Array.isArray(value)) {
      stack.push({ piece: ']' });
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i] === undefined ? null : value[i] });
        if (i > 0) stack.push({ piece: ',' });
      }
      out.push('[');
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value).filter(([, v]) => v !== undefined);
      stack.push({ piece: '}' });
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push({ value: entries[i]![1] });
        stack.push({ piece: `${i > 0 ? ',' : ''}${JSON.stringify(entries[i]![0])}:` });
      }
      out.push('{');
    } else {
      out.push(JSON.stringify(value) ?? 'null');
    }
  }
  return out.join('');
}

/** Validates one replay/HTTP record: an object with exactly one of the keys `change`, `metric`, `service`. */
export function validateRecord(value: unknown): Decoded<ReplayRecord> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: createError('CW_EVENT_SCHEMA', 'a record must be an object with one key: change, metric or service') };
  }
  const keys = Object.keys(value);
  const kind = keys[0];
  if (keys.length !== 1 || (kind !== 'change' && kind !== 'metric' && kind !== 'service')) {
    return {
      ok: false,
      error: createError('CW_EVENT_SCHEMA', `a record must have exactly one key, change, metric or service; got ${JSON.stringify(keys.slice(0, 5))}`),
    };
  }
  const inner = validateEvent(kind, (value as Record<string, unknown>)[kind]);
  if (!inner.ok) return inner;
  return { ok: true, value: { [kind]: inner.value } as ReplayRecord };
}
