/**
 * A stand-in CD system for `npm run demo`: receives changewatch's signed rollback requests, checks
 * their Standard Webhooks signature the way an independent receiver would (its own HMAC over the raw
 * body, a constant-time compare, the timestamp window), prints the verified request, and then really
 * rolls the simulated service back through the live simulator (`attach`), which switches versions
 * and emits a `rollback` change. A request that fails verification is refused with the reason and
 * changes nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RollbackWebhookBody } from '../../server/actions/rollback-webhook.ts';
import { generateWebhookSecret } from '../../server/alerts/notifiers/standard-webhooks.ts';
import { RollbackRefused, type FleetDeployTarget } from './live-simulator.ts';

/** How far a request's `webhook-timestamp` may be from this clock (the Standard Webhooks default, 5 min). */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

/** The author of the rollback changes the demo CD system makes. */
export const DEMO_CD_AUTHOR = 'demo-cd-system';

/** A rollback request whose signature checked out. */
export interface VerifiedRollbackRequest {
  /** `webhook-id`: the changewatch rollback id, the key to deduplicate retries on. */
  webhookId: string;
  /** `webhook-timestamp`, unix seconds. */
  timestampSeconds: number;
  body: RollbackWebhookBody;
}

/** What the verification concluded: the request, or why it was refused. */
export type RollbackVerification = { ok: true; request: VerifiedRollbackRequest } | { ok: false; reason: string };

/**
 * Verifies one received rollback request: the three `webhook-*` headers are present, the timestamp
 * is within `toleranceSeconds` of `nowSeconds`, one of the space-separated `v1,` signatures equals
 * base64 HMAC-SHA256 of `${id}.${timestamp}.${rawBody}` keyed with the secret's base64 key (compared
 * in constant time), and the body is a `rollback.requested` naming a service and both versions.
 *
 * Written from the Standard Webhooks spec rather than with changewatch's own verifier, so it checks
 * the server's signing instead of agreeing with it by construction.
 */
export function verifyRollbackRequest(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): RollbackVerification {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: `webhook-timestamp "${timestamp.slice(0, 20)}" is not unix seconds` };
  const age = nowSeconds - Number(timestamp);
  if (Math.abs(age) > toleranceSeconds) return { ok: false, reason: `webhook-timestamp is ${age} s from this clock (at most ${toleranceSeconds} s allowed): a replay or a wrong clock` };
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest();
  const matches = signatures.split(' ').some((candidate) => {
    const [version, encoded] = candidate.split(',', 2);
    if (version !== 'v1' || encoded === undefined) return false;
    const given = Buffer.from(encoded, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return { ok: false, reason: 'no v1 signature matches the body (wrong secret, or the body was changed on the way)' };
  let body: Partial<RollbackWebhookBody>;
  try {
    body = JSON.parse(rawBody) as Partial<RollbackWebhookBody>;
  } catch {
    return { ok: false, reason: 'the signed body is not JSON' };
  }
  if (body.type !== 'rollback.requested') return { ok: false, reason: `the signed body is a "${String(body.type)}", not a rollback.requested` };
  for (const field of ['rollbackId', 'service', 'fromVersion', 'toVersion', 'approvedBy'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') return { ok: false, reason: `the signed body has no ${field}` };
  }
  return { ok: true, request: { webhookId: id, timestampSeconds: Number(timestamp), body: body as RollbackWebhookBody } };
}

/** One rollback the demo CD system carried out. */
export interface PerformedRollback {
  request: VerifiedRollbackRequest;
  /** The `rollback` change the simulator emitted. */
  changeId: string;
}

/** A running demo CD endpoint. */
export interface DemoCdSystem {
  /** Where changewatch sends rollback requests. */
  url: string;
  /** The `whsec_` secret both sides share. */
  secret: string;
  /** Requests whose signature checked out, oldest first (retries of one `webhook-id` once). */
  received: VerifiedRollbackRequest[];
  /** Rollbacks carried out, oldest first. */
  performed: PerformedRollback[];
  /** Requests refused, with the reason, oldest first. */
  refused: string[];
  /**
   * Connects the fleet to roll back; until then, verified requests are answered 503 (try again).
   * Afterwards: 200 once rolled back, 409 when the fleet refuses, 502 when its change was not produced.
   */
  attach(target: FleetDeployTarget): void;
  stop(): Promise<void>;
}

/** Largest request body read; a rollback request is a few KB. */
const MAX_BODY_BYTES = 1_048_576;

/** Starts the endpoint on an ephemeral 127.0.0.1 port; `print` gets each line it has to say. */
export async function startDemoCdSystem(print: (line: string) => void, secret = generateWebhookSecret()): Promise<DemoCdSystem> {
  const received: VerifiedRollbackRequest[] = [];
  const performed: PerformedRollback[] = [];
  const refused: string[] = [];
  // Answers per webhook-id, so a retry of a request already carried out is not rolled back twice.
  const handled = new Map<string, Promise<{ status: number; body: object }>>();
  let target: FleetDeployTarget | undefined;

  const answer = (res: ServerResponse, status: number, body: object): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const carryOut = async (request: VerifiedRollbackRequest): Promise<{ status: number; body: object }> => {
    const { body } = request;
    if (!target) return { status: 503, body: { error: 'no deployment target attached yet; retry' } };
    try {
      const change = await target.rollBack({
        service: body.service,
        fromVersion: body.fromVersion,
        toVersion: body.toVersion,
        // The contract has no author type for automation: the CD system acts on the approver's decision.
        author: { type: 'human', name: DEMO_CD_AUTHOR, reviewedBy: [body.approvedBy] },
        summary: `Roll back ${body.changeId} (${body.fromVersion} → ${body.toVersion}): changewatch rollback ${body.rollbackId}, approved by ${body.approvedBy}`,
      });
      performed.push({ request, changeId: change.id });
      print(`  → rolled ${body.service} back to ${body.toVersion}: ${body.fromVersion} serves no traffic now; change ${change.id} (rollback) is on the changes topic`);
      return { status: 200, body: { status: 'rolled_back', service: body.service, version: body.toVersion, changeId: change.id } };
    } catch (err) {
      const reason = (err as Error).message;
      if (err instanceof RollbackRefused) {
        print(`  → not rolled back: ${reason}`);
        return { status: 409, body: { error: reason } };
      }
      // The fleet switched versions, but the rollback change did not reach Kafka: a deploy that failed
      // half way, which a CD system reports as its own failure (a retry gets the same answer).
      print(`  → rolled ${body.service} back, but: ${reason}`);
      return { status: 502, body: { error: reason } };
    }
  };

  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/rollback') return answer(res, 404, { error: 'POST /rollback only' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return answer(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
      const verification = verifyRollbackRequest(secret, req.headers, Buffer.concat(chunks).toString('utf8'));
      if (!verification.ok) {
        refused.push(verification.reason);
        print(`demo CD system: refused a rollback request, nothing done: ${verification.reason}`);
        return answer(res, 401, { error: verification.reason });
      }
      const { request } = verification;
      let outcome = handled.get(request.webhookId);
      if (outcome) print(`demo CD system: request ${request.webhookId} again (a retry): already handled, not rolling back twice`);
      else {
        received.push(request);
        for (const line of describeRequest(request, Math.floor(Date.now() / 1000))) print(line);
        outcome = carryOut(request);
        handled.set(request.webhookId, outcome);
        // A request that could not be carried out yet (no target) may be tried again by the retry.
        void outcome.then(({ status }) => status === 503 && handled.delete(request.webhookId));
      }
      void outcome.then(({ status, body }) => answer(res, status, body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/rollback`,
    secret,
    received,
    performed,
    refused,
    attach: (fleet) => (target = fleet),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The verified request in a few readable lines. */
export function describeRequest(request: VerifiedRollbackRequest, nowSeconds: number): string[] {
  const { body } = request;
  const reason = body.reason.length > 160 ? `${body.reason.slice(0, 157)}...` : body.reason;
  return [
    `demo CD system: rollback request ${request.webhookId}, signature OK (HMAC-SHA256 v1, signed ${Math.max(0, nowSeconds - request.timestampSeconds)} s ago)`,
    `  service:      ${body.service} (${body.environment})`,
    `  version:      ${body.fromVersion} → ${body.toVersion}, undoing change ${body.changeId}`,
    `  requested by: ${body.approvedBy} at ${body.approvedAt}${body.incidentId ? `, incident ${body.incidentId}` : ''}`,
    `  why:          ${reason}`,
  ];
}
