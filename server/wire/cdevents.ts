/**
 * CDEvents (https://cdevents.dev, spec v0.4) in CloudEvents, mapped to changewatch's ChangeEvent,
 * and the per-message format detection of the changes topic: a native change JSON, a structured- or
 * binary-mode CloudEvent, or a bare CDEvent. The mapping is documented in docs/ingest.md.
 */
import type { ChangeEvent, ChangeType } from '../../contract/events.ts';
import { AUTHOR_TYPES, type AuthorType } from '../../contract/events.ts';
import { createError, type ChangewatchError } from '../errors.ts';
import { invalid, isObject, unsupported, isBatchContentType, isBinaryMode, isStructuredContentType, looksLikeCloudEvent, readBinary, readStructured, headerString, type CloudEvent, type KafkaHeaders } from './cloudevents.ts';
import { jsonOf, parseJson, validateEvent, validateMany, validateRecord, type Decoded, type DecodedBatch } from './decode.ts';
import type { ReplayRecord } from './schemas.ts';

/** What a CDEvent becomes: a change, or nothing on purpose (a merge: not a production change), or a refusal. */
export type CDEventOutcome = { ok: true; value: ChangeEvent } | { ok: 'ignored'; reason: string } | { ok: false; error: ChangewatchError };

/** A changes-topic message decoded: `decodeMany`'s batch plus how many CDEvents were ignored on purpose. */
export interface DecodedChanges extends DecodedBatch<ChangeEvent> {
  ignored: number;
}

/** The CDEvent types changewatch maps, by `subject.predicate`, and the change type each becomes. */
export const CDEVENT_CHANGE_TYPES = {
  'service.deployed': 'deploy',
  'service.upgraded': 'deploy',
  'service.rolledback': 'rollback',
  'service.removed': 'infra',
  'change.merged': undefined,
} as const satisfies Record<string, ChangeType | undefined>;
type MappedType = keyof typeof CDEVENT_CHANGE_TYPES;

/**
 * Extension attributes (and `customData` keys) changewatch reads: provenance and what CDEvents do not
 * carry. CloudEvents extension names are lowercase letters and digits.
 */
export const PROVENANCE_ATTRIBUTES = ['aiagent', 'aimodel', 'aireviewers', 'authortype', 'author', 'service', 'previousversion', 'summary', 'pr', 'commit'] as const;
type Provenance = (typeof PROVENANCE_ATTRIBUTES)[number];

/** `dev.cdevents.<subject>.<predicate>.<major>.<minor>.<patch>[-pre]` */
const CDEVENT_TYPE = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\.(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;
/** Every event type this maps has major version 0 in spec v0.4 (0.2.0); any minor and patch of it is taken. */
const SUPPORTED_MAJOR = 0;

/** True for a bare CDEvent (no CloudEvents envelope): `{ context: { type: "dev.cdevents…" }, subject }`. */
export function looksLikeCDEvent(value: unknown): boolean {
  return isObject(value) && isObject(value.context) && typeof value.context.type === 'string' && value.context.type.startsWith('dev.cdevents.') && Object.hasOwn(value, 'subject');
}

/**
 * Decodes one message of the changes topic, detecting its format: binary mode by its `ce_specversion`
 * header, structured mode by its content type `application/cloudevents+json` or, without one, by a
 * `specversion` member; a bare CDEvent by its `context.type`; else a native change (or array of them,
 * whose items may be any of the JSON formats).
 */
export function decodeChangeMessage(bytes: Buffer, headers: KafkaHeaders | undefined, maxBytes: number): DecodedChanges {
  const parsed = parseJson(bytes, maxBytes);
  const whole = (error: ChangewatchError): DecodedChanges => ({ values: [], rejects: [{ index: -1, error, original: bytes }], ignored: 0 });
  if (isBinaryMode(headers)) {
    if (!parsed.ok && parsed.error.code === 'CW_EVENT_TOO_LARGE') return whole(parsed.error);
    return single(changeFromEnvelope(readBinary(headers!, bytes)), bytes);
  }
  const contentType = headerString(headers, 'content-type');
  if (isBatchContentType(contentType)) return whole(createError('CW_CLOUDEVENT_UNSUPPORTED', 'the Kafka binding of CloudEvents has no batch mode: send one CloudEvent per message'));
  if (!parsed.ok) return whole(parsed.error);
  if (isStructuredContentType(contentType)) return single(changeFromEnvelope(readStructured(parsed.value)), bytes);
  if (!Array.isArray(parsed.value)) {
    if (looksLikeCloudEvent(parsed.value) || looksLikeCDEvent(parsed.value)) return single(changeFromJson(parsed.value), bytes);
    return { ...validateMany('change', parsed.value, bytes), ignored: 0 };
  }
  const batch: DecodedChanges = { values: [], indexes: [], rejects: [], ignored: 0 };
  parsed.value.forEach((item, index) => {
    const one = changeFromJson(item);
    if (one.ok === 'ignored') batch.ignored++;
    else if (one.ok) {
      batch.values.push(one.value);
      batch.indexes!.push(index);
    } else batch.rejects.push({ index, error: one.error, original: jsonOf(item) });
  });
  return batch;
}

/** One parsed JSON value as a change: a structured CloudEvent, a bare CDEvent or a native change (HTTP records, array items). */
export function changeFromJson(value: unknown): CDEventOutcome {
  if (looksLikeCloudEvent(value)) return changeFromEnvelope(readStructured(value));
  if (looksLikeCDEvent(value)) return changeFromCDEvent(value as Record<string, unknown>, undefined);
  return validateEvent('change', value);
}

/** A CloudEvent envelope (or the reason it is refused) as a change. */
export function changeFromEnvelope(envelope: ReturnType<typeof readStructured>): CDEventOutcome {
  if (!envelope.ok) return envelope;
  const event = envelope.event;
  if (!event.type.startsWith('dev.cdevents.')) return unsupported(`CloudEvent type ${JSON.stringify(event.type.slice(0, 100))} is not a CDEvent; changewatch takes ${Object.keys(CDEVENT_CHANGE_TYPES).map((t) => `dev.cdevents.${t}`).join(', ')}`);
  if (!isObject(event.data)) return invalid(`CloudEvent ${event.type} carries no CDEvent: its data must be a JSON object with context and subject`);
  return changeFromCDEvent(event.data, event);
}

/** Maps a CDEvent (the CloudEvent's data, or a bare one) to a change; `envelope` gives the context a CDEvent may leave out. */
export function changeFromCDEvent(cdevent: Record<string, unknown>, envelope: CloudEvent | undefined): CDEventOutcome {
  const context = isObject(cdevent.context) ? cdevent.context : {};
  const type = str(context.type) ?? envelope?.type;
  if (type === undefined) return invalid('CDEvent: context.type is required');
  if (envelope && str(context.type) !== undefined && context.type !== envelope.type) {
    return invalid(`CloudEvent type ${envelope.type} and its CDEvent's context.type ${String(context.type)} differ`);
  }
  const match = CDEVENT_TYPE.exec(type);
  if (!match) return unsupported(`${JSON.stringify(type.slice(0, 100))} is not a CDEvents type (dev.cdevents.<subject>.<predicate>.<major>.<minor>.<patch>)`);
  const [, subjectType, predicate, major] = match;
  const name = `${subjectType}.${predicate}`;
  if (!Object.hasOwn(CDEVENT_CHANGE_TYPES, name)) return unsupported(`CDEvent ${name} is not a change changewatch tracks; it takes ${Object.keys(CDEVENT_CHANGE_TYPES).join(', ')}`);
  if (Number(major) !== SUPPORTED_MAJOR) return unsupported(`${type}: major version ${major} of ${name} is not known (changewatch maps ${SUPPORTED_MAJOR}.x.y, CDEvents spec v0.4)`);
  const mapped = name as MappedType;

  const problems: string[] = [];
  const id = str(context.id) ?? envelope?.id;
  if (id === undefined) problems.push('context.id: required');
  const source = str(context.source) ?? envelope?.source;
  if (source === undefined) problems.push('context.source: required');
  const timestamp = str(context.timestamp) ?? envelope?.time;
  if (timestamp === undefined) problems.push('context.timestamp: required');
  const subject = cdevent.subject;
  if (!isObject(subject)) problems.push('subject: required, an object');
  const content = isObject(subject) && isObject(subject.content) ? subject.content : undefined;
  if (isObject(subject) && !content) problems.push('subject.content: required, an object');
  const subjectId = isObject(subject) ? str(subject.id) : undefined;
  if (isObject(subject) && subjectId === undefined) problems.push('subject.id: required, a non-empty string');
  if (problems.length) return invalid(`CDEvent ${name}: ${problems.join('; ')}`, problems);

  const customData = isObject(cdevent.customData) ? cdevent.customData : {};
  const extension = (key: Provenance): unknown => envelope?.extensions[key] ?? customData[key];
  const text = (key: Provenance): string | undefined => {
    const value = extension(key);
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' ? String(value) : undefined;
  };

  if (mapped === 'change.merged') {
    const repository = isObject(content!.repository) ? str(content!.repository.id) : undefined;
    return { ok: 'ignored', reason: `change.merged ${subjectId}${repository ? ` in ${repository}` : ''}: a merge changes no running service; the deploy that ships it is the change` };
  }

  const environment = isObject(content!.environment) ? str(content!.environment.id) : undefined;
  if (environment === undefined) problems.push('subject.content.environment.id: required, a non-empty string');
  const artifactId = str(content!.artifactId);
  if (artifactId === undefined && mapped !== 'service.removed') problems.push('subject.content.artifactId: required, a non-empty string');
  if (problems.length) return invalid(`CDEvent ${name}: ${problems.join('; ')}`, problems);
  const artifact = artifactId === undefined ? undefined : parseArtifact(artifactId);

  const authorTypeText = text('authortype');
  if (authorTypeText !== undefined && !(AUTHOR_TYPES as readonly string[]).includes(authorTypeText)) {
    return invalid(`CDEvent ${name}: authortype must be one of ${AUTHOR_TYPES.join(', ')}, got ${JSON.stringify(authorTypeText.slice(0, 40))}`);
  }
  const agent = text('aiagent');
  const authorType: AuthorType = (authorTypeText as AuthorType | undefined) ?? (agent ? 'ai_agent' : 'human');
  const reviewers = listOf(extension('aireviewers'));
  const model = text('aimodel');
  const service = text('service') ?? artifact?.name ?? lastSegment(subjectId!);
  const version = mapped === 'service.removed' ? undefined : artifact?.version;
  const previousVersion = text('previousversion') ?? (mapped === 'service.removed' ? artifact?.version : undefined);
  const pr = text('pr');
  const commit = text('commit');

  const change: Record<string, unknown> = {
    id,
    type: CDEVENT_CHANGE_TYPES[mapped],
    service,
    environment,
    timestamp,
    author: {
      type: authorType,
      name: text('author') ?? agent ?? source,
      ...(agent ? { agent } : {}),
      ...(model ? { model } : {}),
      ...(reviewers.length ? { reviewedBy: reviewers } : {}),
    },
    summary: text('summary') ?? `${name}${artifactId ? ` ${artifactId}` : ` ${subjectId}`} in ${environment} (CDEvent from ${source})`.slice(0, 2000),
  };
  if (version !== undefined) change.version = version;
  if (previousVersion !== undefined) change.previousVersion = previousVersion;
  if (pr || commit) change.links = { ...(pr ? { pr } : {}), ...(commit ? { commit } : {}) };

  const checked = validateEvent('change', change);
  if (checked.ok) return checked;
  // The same checks as a native change; the message says which CDEvent the mapped fields came from.
  const code = checked.error.code === 'CW_EVENT_TIMESTAMP' ? 'CW_EVENT_TIMESTAMP' : 'CW_CLOUDEVENT_INVALID';
  return { ok: false, error: createError(code, `CDEvent ${name} ${id}: ${checked.error.message}`, checked.error.details) };
}

/**
 * The service name and version in an artifact id: a package URL (`pkg:oci/myapp@sha256%3A…?tag=v1`:
 * the name, and the `tag` qualifier, else the version) or, leniently, an image reference
 * (`registry/myapp:v1`, `myapp@sha256:…`).
 */
export function parseArtifact(artifactId: string): { name: string; version?: string } | undefined {
  if (artifactId.startsWith('pkg:')) {
    let rest = artifactId.slice(4).split('#')[0]!;
    let qualifiers = '';
    const q = rest.indexOf('?');
    if (q >= 0) [rest, qualifiers] = [rest.slice(0, q), rest.slice(q + 1)];
    let version: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at >= 0) [rest, version] = [rest.slice(0, at), decode(rest.slice(at + 1))];
    const segments = rest.split('/').filter(Boolean);
    if (segments.length < 2) return undefined;
    const tag = new URLSearchParams(qualifiers).get('tag') ?? undefined;
    const name = decode(segments[segments.length - 1]!);
    const chosen = tag || version || undefined;
    return chosen ? { name, version: chosen } : { name };
  }
  const lastSlash = artifactId.lastIndexOf('/');
  const tail = artifactId.slice(lastSlash + 1);
  const at = tail.indexOf('@');
  if (at >= 0) return { name: tail.slice(0, at), version: tail.slice(at + 1) };
  const colon = tail.indexOf(':');
  if (colon >= 0) return { name: tail.slice(0, colon), version: tail.slice(colon + 1) };
  return tail ? { name: tail } : undefined;
}

function single(outcome: CDEventOutcome, bytes: Buffer): DecodedChanges {
  if (outcome.ok === 'ignored') return { values: [], rejects: [], ignored: 1 };
  if (outcome.ok) return { values: [outcome.value], rejects: [], ignored: 0 };
  return { values: [], rejects: [{ index: -1, error: outcome.error, original: bytes }], ignored: 0 };
}

function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  return items.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter(Boolean);
}

function lastSegment(id: string): string {
  const segments = id.split('/').filter(Boolean);
  return segments[segments.length - 1] ?? id;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}


/**
 * One record of POST /api/v1/events: a CloudEvent (structured mode; `binary` when the request was a
 * binary-mode one, `value` its body) or a bare CDEvent is a change record; anything else is validated as a replay record (`{ change }`, `{ metric }`, `{ service }`).
 */
export function validateIngestRecord(value: unknown, binary?: ReturnType<typeof readBinary>): Decoded<ReplayRecord> | { ok: 'ignored'; reason: string } {
  if (!binary && !looksLikeCloudEvent(value) && !looksLikeCDEvent(value)) return validateRecord(value);
  const outcome = binary ? changeFromEnvelope(binary) : changeFromJson(value);
  return outcome.ok === true ? { ok: true, value: { change: outcome.value } } : outcome;
}
