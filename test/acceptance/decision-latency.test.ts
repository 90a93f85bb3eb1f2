/**
 * Decisions on time (issue #15, item 2), end to end on the real mock broker in automatic mode: an
 * AI agent's deploy whose version fails 35 times as often as the one it replaced, first suppressed
 * while the evidence is thin, must reach the CD system (a real local receiver) as a signed rollback
 * request within 30 s of wall time once the evidence suffices, with the input stream idle from then
 * on; the audit log records when the policy decided.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { ChangeEvent, TelemetryPoint } from '../../contract/events.ts';
import type { AutomationSnapshot } from '../../contract/automation.ts';
import { verifyWebhook } from '../../server/alerts/notifiers/standard-webhooks.ts';
import type { RunningService } from '../../server/service.ts';
import { T0 } from '../support/factories.ts';
import * as scenario from '../support/guarded-rollback.ts';
import { connectedProducer, eventually } from '../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
/** The token the audit log is read with (it names people, so it needs one). */
const OPERATOR_TOKEN = 'cw_latency-operator-token';
/** The bound under test: from "evidence sufficient" to the signed request at the CD system. */
const DECISION_LATENCY_BOUND_MS = 30_000;
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A CD receiver and changewatch in automatic mode sending to it, both torn down after the test. */
async function start(minConfidence: number): Promise<{ cd: scenario.CdReceiver; service: RunningService; topics: scenario.RollbackService['topics']; secret: string }> {
  const cd = await scenario.startCdReceiver();
  cleanup.push(() => cd.close());
  const { service, topics, secret } = await scenario.startWithRollback({
    brokers,
    mode: 'automatic',
    cdUrl: cd.url,
    minConfidence,
    tokens: [{ name: 'ops-alice', role: 'operator', token: OPERATOR_TOKEN }],
  });
  cleanup.push(() => service.stop());
  return { cd, service, topics, secret };
}

/** Produces the deploy (and waits until it is consumed); returns how to produce telemetry after it. */
async function producer(service: RunningService, topics: scenario.RollbackService['topics'], deploy: ChangeEvent): Promise<(points: TelemetryPoint[]) => Promise<void>> {
  const kafka = await connectedProducer(brokers);
  cleanup.push(() => kafka.disconnect());
  await kafka.send({ topic: topics.changes, messages: [{ key: 'checkout', value: JSON.stringify(deploy) }] });
  await eventually(() => service.core.recentChanges().length === 1, 15_000, 'the deploy to be consumed');
  return async (points) => {
    await kafka.send({ topic: topics.telemetry, messages: points.map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
  };
}

/** Waits until the service has processed `count` records (the deploy included). */
async function processed(service: RunningService, count: number): Promise<void> {
  await eventually(() => service.core.stats(true).eventsProcessed >= count, 20_000, `${count} records to be processed`);
}

/** The policy's audit entry for the automatic rollback of chg-ai-1, if any. */
async function approvalEntry(service: RunningService): Promise<{ action: string; actor: string; at: string; target: string } | undefined> {
  const res = await fetch(`${service.url}/api/v1/audit?limit=200`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
  const { entries } = (await res.json()) as { entries: Array<{ action: string; actor: string; at: string; target: string }> };
  return entries.find((entry) => entry.action === 'rollback.approve' && entry.actor === 'policy');
}

/**
 * Asserts one signed request for chg-ai-1 reached `cd` within the bound after `evidenceAt`, and that
 * the audit log says the policy decided in between; returns the measured latency in ms.
 */
async function expectRollbackOnTime(cd: scenario.CdReceiver, service: RunningService, secret: string, evidenceAt: number): Promise<number> {
  await eventually(() => cd.requests.length >= 1, DECISION_LATENCY_BOUND_MS + 5_000, 'the automatic rollback request');
  const request = cd.requests[0]!;
  verifyWebhook(secret, request.headers as Record<string, string>, request.body);
  expect(JSON.parse(request.body)).toMatchObject({ type: 'rollback.requested', changeId: 'chg-ai-1', fromVersion: 'v2.4.0', toVersion: 'v2.3.9', approvedBy: 'policy' });
  const latency = request.receivedAt - evidenceAt;
  expect(latency).toBeLessThan(DECISION_LATENCY_BOUND_MS);
  const entry = await approvalEntry(service);
  expect(entry).toBeDefined();
  const decidedAt = Date.parse(entry!.at);
  expect(decidedAt).toBeGreaterThanOrEqual(evidenceAt - 5); // ISO timestamps are ms; allow clock rounding
  expect(decidedAt).toBeLessThanOrEqual(request.receivedAt);
  if (process.env.CW_LOG_DECISION_LATENCY) console.info(`decision latency: evidence → decision ${decidedAt - evidenceAt} ms, evidence → request ${latency} ms`);
  return latency;
}

describe('Decision latency in automatic mode (real broker, real CD receiver, idle stream)', () => {
  it('takes the decision an emission brought while the previous decision was still being published', { timeout: 90_000 }, async () => {
    const { cd, service, topics, secret } = await start(0.5);
    // Publishing the dashboard snapshot after a decision is held until the evidence is in (a slow
    // store does that for real): the emission that brings the version split lands meanwhile.
    let hold: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (hold = resolve));
    let snapshots = 0;
    const snapshot = service.automation.snapshot.bind(service.automation);
    service.automation.snapshot = async (): Promise<AutomationSnapshot> => {
      snapshots++;
      await held;
      return snapshot();
    };
    cleanup.push(() => hold!()); // runs first at teardown: a publish left hanging would keep the service from stopping
    // 10 s steps without request counts: v2.4.0 goes bad 10 min after the deploy; the alert opens on
    // timing alone (+620 s .. +860 s, suppressed), the version split comes with the emission of +890 s.
    const { deploy, points } = scenario.versionRollout({ start: T0, stepMs: 10_000, normal: 200, after: 91, badAfterMs: 600_000, factor: 35, counts: false });
    const send = await producer(service, topics, deploy);
    const beforeSplit = points.filter((p) => p.timestamp - deploy.timestamp <= 880_000);
    await send(beforeSplit);
    await processed(service, 1 + beforeSplit.length);
    let suppressed: Array<{ reason: string; alertId?: string }> = [];
    await eventually(
      async () => {
        suppressed = (await (await fetch(`${service.url}/api/v1/rollbacks?status=suppressed`)).json()).rollbacks;
        return suppressed.length > 0 && snapshots > 0;
      },
      20_000,
      'the first decision (suppressed) and its snapshot being published',
    );
    expect(suppressed[0]!.reason).toMatch(/timing/);
    expect(cd.requests).toHaveLength(0);

    await send(points.slice(beforeSplit.length));
    await processed(service, 1 + points.length);
    const alertId = service.core.alerts.list({ status: 'firing' })[0]!.id;
    await eventually(async () => (await service.store.alerts.get(alertId))?.suspects[0]?.evidenceKinds?.includes('version_split') === true, 20_000, 'the version split stored with the alert');
    const evidenceAt = Date.now();
    hold!();
    await expectRollbackOnTime(cd, service, secret, evidenceAt);
  });

  it('takes the decision once attribution re-ranked the alert, though that re-ranking was not emitted', { timeout: 90_000 }, async () => {
    // minConfidence 0.97: the alert's emission of +960 s says 0.97 with the version split (just below),
    // attribution re-ranks it to 0.997 at +1000 s, a change too small to emit, and the stream stops there.
    const { cd, service, topics, secret } = await start(0.97);
    const { deploy, points } = scenario.versionRollout({ start: T0, stepMs: 20_000, normal: 100, after: 50, badAfterMs: 720_000, factor: 35, counts: false });
    const send = await producer(service, topics, deploy);
    await send(points);
    await processed(service, 1 + points.length);
    const evidenceAt = Date.now();
    const alertId = service.core.alerts.list({ status: 'firing' })[0]!.id;
    await service.alertRouter.idle();
    const stored = await service.store.alerts.get(alertId);
    expect(stored?.suspects[0]).toMatchObject({ changeId: 'chg-ai-1' });
    await expectRollbackOnTime(cd, service, secret, evidenceAt);
  });
});
