/**
 * CloudEvents 1.0 envelopes, as the Kafka protocol binding carries them (and the HTTP binding, for
 * POST /api/v1/events): structured mode (the whole event as JSON in the value, content type
 * `application/cloudevents+json`) and binary mode (attributes in `ce_` headers, the data alone in the
 * value). Knows nothing of what the event means: `cdevents.ts` maps CDEvents to changes.
 */
import { createError, type ChangewatchError } from '../errors.ts';

/** A CloudEvent read from either mode: its attributes (extensions included, as strings) and its data. */
export interface CloudEvent {
  mode: 'structured' | 'binary';
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string;
  datacontenttype?: string;
  /** Every other attribute: the extensions, by their (lowercase) name. */
  extensions: Record<string, string>;
  /** The data, parsed when its content type is JSON (or absent); undefined when the event has none. */
  data: unknown;
}

/** The outcome of reading an envelope. */
export type EnvelopeResult = { ok: true; event: CloudEvent } | { ok: false; error: ChangewatchError };

/** Kafka header values as kafkajs gives them. */
export type KafkaHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined>;

const CONTEXT_ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'dataschema', 'subject']);
/** CloudEvents attribute names: lowercase ASCII letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** The structured-mode content type (parameters such as `; charset=utf-8` aside). */
export function isStructuredContentType(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/cloudevents+json';
}

/** The batch content type, which the Kafka binding does not define (HTTP only). */
export function isBatchContentType(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'application/cloudevents-batch+json';
}

/** True for a JSON media type: `application/json`, `text/json`, `…+json`; an absent one counts as JSON. */
export function isJsonContentType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === undefined || type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/** True when a parsed JSON value looks like a structured-mode CloudEvent (it has a `specversion`). */
export function looksLikeCloudEvent(value: unknown): value is Record<string, unknown> {
  return isObject(value) && Object.hasOwn(value, 'specversion');
}

/** Reads a header as a UTF-8 string (the last value when repeated). */
export function headerString(headers: KafkaHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const raw = headers[key];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    return value === undefined ? undefined : value.toString();
  }
  return undefined;
}

/** True when the message's headers make it a binary-mode CloudEvent (`ce_specversion` present). */
export function isBinaryMode(headers: KafkaHeaders | undefined, prefix = 'ce_'): boolean {
  return headerString(headers, `${prefix}specversion`) !== undefined;
}

/** A structured-mode CloudEvent, already parsed from JSON. */
export function readStructured(value: unknown): EnvelopeResult {
  if (!isObject(value)) return invalid('a structured-mode CloudEvent must be a JSON object');
  const attributes: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(value)) if (name !== 'data' && name !== 'data_base64') attributes[name] = attribute;
  const checked = checkAttributes(attributes, 'structured');
  if (!checked.ok) return checked;
  const { event } = checked;
  if (Object.hasOwn(value, 'data') && Object.hasOwn(value, 'data_base64')) return invalid('a CloudEvent has either data or data_base64, not both');
  if (Object.hasOwn(value, 'data_base64')) {
    if (typeof value.data_base64 !== 'string') return invalid('data_base64 must be a base64 string');
    const decoded = parseData(Buffer.from(value.data_base64, 'base64'), event.datacontenttype);
    if (!decoded.ok) return decoded;
    event.data = decoded.data;
  } else if (Object.hasOwn(value, 'data')) {
    // JSON data is embedded as JSON; a string with a JSON content type is JSON text.
    if (typeof value.data === 'string' && mediaType(event.datacontenttype) !== undefined && isJsonContentType(event.datacontenttype)) {
      const decoded = parseData(Buffer.from(value.data), event.datacontenttype);
      if (!decoded.ok) return decoded;
      event.data = decoded.data;
    } else {
      if (!isJsonContentType(event.datacontenttype)) return unsupported(`data of content type ${JSON.stringify(event.datacontenttype)} is not JSON`);
      event.data = value.data;
    }
  }
  return { ok: true, event };
}

/**
 * A binary-mode CloudEvent: attributes from the `ce_` headers (`ce-` for HTTP), the content type
 * from `content-type`, the data from the value.
 */
export function readBinary(headers: KafkaHeaders, value: Buffer | string | null, prefix = 'ce_'): EnvelopeResult {
  const attributes: Record<string, unknown> = {};
  for (const key of Object.keys(headers)) {
    const lower = key.toLowerCase();
    if (!lower.startsWith(prefix)) continue;
    const text = headerString(headers, lower);
    // Values are percent-encoded in HTTP headers (CloudEvents HTTP binding); harmless for Kafka's plain UTF-8.
    if (text !== undefined) attributes[lower.slice(prefix.length)] = prefix === 'ce-' ? safeDecodeURIComponent(text) : text;
  }
  const contentType = headerString(headers, 'content-type');
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  const checked = checkAttributes(attributes, 'binary');
  if (!checked.ok) return checked;
  const bytes = value === null ? Buffer.alloc(0) : typeof value === 'string' ? Buffer.from(value) : value;
  if (bytes.length > 0) {
    const decoded = parseData(bytes, checked.event.datacontenttype);
    if (!decoded.ok) return decoded;
    checked.event.data = decoded.data;
  }
  return checked;
}

function checkAttributes(attributes: Record<string, unknown>, mode: CloudEvent['mode']): EnvelopeResult {
  const problems: string[] = [];
  const text = (name: string, required: boolean): string | undefined => {
    const value = attributes[name];
    if (value === undefined || value === null) {
      if (required) problems.push(`${name}: required`);
      return undefined;
    }
    if (typeof value !== 'string' || value.length === 0) {
      problems.push(`${name}: must be a non-empty string`);
      return undefined;
    }
    return value;
  };
  const specversion = text('specversion', true);
  if (specversion !== undefined && specversion !== '1.0') return unsupported(`CloudEvents specversion ${JSON.stringify(specversion.slice(0, 20))} is not supported (only 1.0)`);
  const id = text('id', true);
  const source = text('source', true);
  const type = text('type', true);
  const time = text('time', false);
  const datacontenttype = text('datacontenttype', false);
  for (const name of ['dataschema', 'subject']) text(name, false);
  if (time !== undefined && !Number.isFinite(Date.parse(time))) problems.push(`time: not an RFC 3339 time: ${JSON.stringify(time.slice(0, 60))}`);
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (CONTEXT_ATTRIBUTES.has(name)) continue;
    if (!ATTRIBUTE_NAME.test(name) || name.length > 50) {
      problems.push(`${name.slice(0, 50)}: CloudEvents attribute names are lowercase letters and digits`);
      continue;
    }
    // Extension values are strings, integers or booleans; anything else is not a CloudEvents attribute.
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value))) extensions[name] = String(value);
    else if (value !== null && value !== undefined) problems.push(`${name}: an extension attribute must be a string, an integer or a boolean`);
  }
  if (problems.length) return invalid(`invalid ${mode}-mode CloudEvent: ${problems.join('; ')}`, problems);
  const event: CloudEvent = { mode, specversion: specversion!, id: id!, source: source!, type: type!, extensions, data: undefined };
  if (time !== undefined) event.time = time;
  if (datacontenttype !== undefined) event.datacontenttype = datacontenttype;
  return { ok: true, event };
}

function parseData(bytes: Buffer, contentType: string | undefined): { ok: true; data: unknown } | { ok: false; error: ChangewatchError } {
  if (!isJsonContentType(contentType)) return unsupported(`data of content type ${JSON.stringify(contentType)} is not JSON`);
  try {
    return { ok: true, data: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    return invalid(`the CloudEvent's data is not valid JSON: ${(err as Error).message}`);
  }
}

function mediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === '' ? undefined : type;
}

function safeDecodeURIComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A refused CloudEvent: malformed (every problem listed). */
export function invalid(message: string, problems?: string[]): { ok: false; error: ChangewatchError } {
  return { ok: false, error: createError('CW_CLOUDEVENT_INVALID', message, problems ? { problems } : undefined) };
}

/** A refused CloudEvent: well formed, but not one changewatch takes. */
export function unsupported(message: string): { ok: false; error: ChangewatchError } {
  return { ok: false, error: createError('CW_CLOUDEVENT_UNSUPPORTED', message) };
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
