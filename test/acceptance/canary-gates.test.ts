/**
 * End to end on the real mock broker: canary controllers ask changewatch whether a canary is
 * implicated, with the requests Argo Rollouts' web metric provider and Flagger's webhooks send
 * (test/support/canary-controllers.ts). Before the incident every gate passes; once the AI agent's
 * deploy chg-ai-1 (v2.4.0) breaks checkout (real telemetry and the change through Kafka), Argo's
 * measurement fails, Flagger's gate hooks halt with the reason and its rollback hook says roll back
 * (not while the kill switch is on, not without the version); another version is not implicated
 * but an AI-authored one is held by the freeze while a human's advances; a person resolving the
 * incident clears the implication, lifting the freeze clears the rest.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { CanaryAssessment } from '../../server/actions/gates.ts';
import type { RunningService } from '../../server/service.ts';
import { argoMeasurement, argoWebMetric, flaggerPassed, flaggerWebhook, type FlaggerCanary } from '../support/canary-controllers.ts';
import * as scenario from '../support/guarded-rollback.ts';
import { eventually } from '../support/kafka-helpers.ts';

const brokers = inject('kafkaBrokers');
const OPERATOR_TOKEN = 'cw_gates-operator-token';
const VIEWER_TOKEN = 'cw_gates-viewer-token';
const asOperator = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };
const GATE_HOOKS = ['confirm-rollout', 'pre-rollout', 'rollout', 'confirm-traffic-increase', 'confirm-promotion'] as const;

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

type FlaggerAnswer = CanaryAssessment & { message: string; hook: string; verdict: string; canary: Record<string, string> };

/** The AnalysisTemplate of docs/actions.md, its args substituted: GET with the viewer token in the header Argo sets. */
function argo(service: RunningService, args: Record<string, string>) {
  const query = new URLSearchParams(args).toString();
  return argoWebMetric<CanaryAssessment>(`${service.url}/api/v1/gates/analysis?${query}`, [{ key: 'Authorization', value: `Bearer ${VIEWER_TOKEN}` }]);
}

/** A Flagger canary `checkout` in namespace `shop`, with the webhook metadata of docs/actions.md. */
function canary(metadata: Record<string, string>, phase: FlaggerCanary['phase'] = 'Progressing'): FlaggerCanary {
  return { name: 'checkout', namespace: 'shop', phase, checksum: '6d8f9b7c5', metadata };
}

function flagger(service: RunningService, hook: string, body: FlaggerCanary) {
  return flaggerWebhook<FlaggerAnswer>(`${service.url}/api/v1/gates/flagger/${hook}`, body);
}

describe('Canary gates for Argo Rollouts and Flagger (real broker, real telemetry)', () => {
  it('passes a healthy canary, fails and halts the implicated version, signals its rollback, holds AI canaries under a freeze, and clears when people act', { timeout: 90_000 }, async () => {
    const cd = await scenario.startCdReceiver();
    cleanup.push(() => cd.close());
    const { service, topics } = await scenario.startWithRollback({
      brokers,
      mode: 'require-approval',
      cdUrl: cd.url,
      tokens: [
        { name: 'ops-alice', role: 'operator', token: OPERATOR_TOKEN },
        { name: 'argo-rollouts', role: 'viewer', token: VIEWER_TOKEN },
      ],
    });
    cleanup.push(() => service.stop());
    const v240 = { version: 'v2.4.0', environment: 'prod' };

    // Before anything is wrong: every gate passes, nothing signals a rollback.
    const quiet = await argo(service, { service: 'checkout', ...v240 });
    expect(quiet.status).toBe(200);
    expect(quiet.body).toMatchObject({ implicated: false, frozen: false, healthy: true, score: 0, alerts: [], freezeIds: [] });
    expect(argoMeasurement(quiet)).toBe('Successful');
    for (const hook of GATE_HOOKS) {
      const answer = await flagger(service, hook, canary(v240));
      expect([hook, answer.status, answer.body.verdict]).toEqual([hook, 200, 'advance']);
      expect(flaggerPassed(answer)).toBe(true);
    }
    const noRollback = await flagger(service, 'rollback', canary(v240));
    expect(noRollback).toMatchObject({ status: 409, body: { verdict: 'no-rollback', rollback: { signal: false } } });
    expect(flaggerPassed(noRollback)).toBe(false);

    // The AI agent's deploy breaks checkout, through Kafka.
    cleanup.push(await scenario.playIncident(brokers, service, topics));
    let implicated: CanaryAssessment | undefined;
    await eventually(
      async () => {
        implicated = (await argo(service, { service: 'checkout', ...v240 })).body;
        return implicated.implicated && implicated.frozen && implicated.rollback.signal;
      },
      30_000,
      'v2.4.0 to be implicated, frozen and worth a rollback',
    );
    expect(implicated).toMatchObject({ service: 'checkout', version: 'v2.4.0', environment: 'prod', healthy: false });
    expect(implicated!.score).toBeGreaterThanOrEqual(0.5);
    expect(implicated!.alerts[0]).toMatchObject({ changeId: 'chg-ai-1', version: 'v2.4.0', service: 'checkout', metric: 'error_rate', environment: 'prod' });
    expect(implicated!.alerts[0]!.evidenceKinds).toContain('version_split');
    expect(implicated!.alerts[0]!.incidentId).toMatch(/\S/);
    expect(implicated!.reasons.join(' ')).toMatch(/chg-ai-1/);
    // The rollback signal's reason is read by people in Argo's and Flagger's UI: in words, with the alert's id.
    expect(implicated!.rollback.reasons.join(' ')).toMatch(/^the deploy chg-ai-1 \(v2\.4\.0\) likely caused the anomaly of checkout error_rate \(\d+ % likely; evidence: [a-z ;]*only the new version is affected.*; alert \S+\): roll the canary back$/);
    expect(implicated!.freezeIds).toHaveLength(1);
    expect(argoMeasurement(await argo(service, { service: 'checkout', ...v240 }))).toBe('Failed');

    // Flagger: every gate hook halts with the reason in the body it copies into the canary's events.
    for (const hook of GATE_HOOKS) {
      const answer = await flagger(service, hook, canary(v240));
      expect([hook, answer.status, answer.body.verdict]).toEqual([hook, 409, 'halt']);
      expect(answer.text.startsWith('{"message":"halt: ')).toBe(true);
      expect(answer.body.message).toMatch(/chg-ai-1/);
      expect(answer.body.canary).toEqual({ name: 'checkout', namespace: 'shop', phase: 'Progressing', checksum: '6d8f9b7c5' });
    }
    // ...and its rollback hook answers 200, which tells Flagger to roll the canary back.
    const rollBack = await flagger(service, 'rollback', canary(v240));
    expect(rollBack).toMatchObject({ status: 200, body: { verdict: 'rollback', rollback: { signal: true } } });
    expect(rollBack.body.message).toMatch(/chg-ai-1 \(v2\.4\.0\)/);
    // Never without the version: the canary could be the fix.
    const unversioned = await flagger(service, 'rollback', canary({ environment: 'prod' }));
    expect(unversioned.status).toBe(409);
    expect(unversioned.body.implicated).toBe(true);
    expect(unversioned.body.message).toMatch(/no version given/);
    // The kill switch stops the rollback signal, not the halts.
    expect((await fetch(`${service.url}/api/v1/killswitch`, { method: 'POST', headers: asOperator, body: JSON.stringify({ engaged: true, reason: 'humans only' }) })).status).toBe(200);
    const held = await flagger(service, 'rollback', canary(v240));
    expect(held.status).toBe(409);
    expect(held.body.message).toMatch(/kill switch is on \(by ops-alice: humans only\)/);
    expect((await flagger(service, 'rollout', canary(v240))).status).toBe(409);
    expect((await fetch(`${service.url}/api/v1/killswitch`, { method: 'POST', headers: asOperator, body: JSON.stringify({ engaged: false, reason: 'done' }) })).status).toBe(200);

    // Another environment is not implicated (only the freeze holds an AI canary there).
    const staging = (await argo(service, { service: 'checkout', version: 'v2.4.0', environment: 'staging', author: 'human' })).body;
    expect(staging).toMatchObject({ implicated: false, frozen: false, healthy: true });

    // The next version is not implicated; an AI-authored one is still held by the freeze, a human's advances.
    const fixByAgent = await argo(service, { service: 'checkout', version: 'v2.4.1', environment: 'prod', author: 'ai_agent', agent: 'kiro' });
    expect(fixByAgent.body).toMatchObject({ implicated: false, frozen: true, healthy: false, score: 0 });
    expect(fixByAgent.body.reasons.join(' ')).toMatch(/frozen/);
    expect(fixByAgent.body.reasons.join(' ')).toMatch(/not counted: .*chg-ai-1 \(v2\.4\.0\), not v2\.4\.1/);
    const fixByHuman = await flagger(service, 'confirm-rollout', canary({ version: 'v2.4.1', environment: 'prod', author: 'human' }));
    expect(fixByHuman).toMatchObject({ status: 200, body: { verdict: 'advance', implicated: false, frozen: false } });
    // An unknown author is treated as an AI agent: the brake fails closed.
    expect((await flagger(service, 'confirm-rollout', canary({ version: 'v2.4.1', environment: 'prod' }))).status).toBe(409);

    // A person resolves the incident: v2.4.0 is no longer implicated, the freeze still holds AI canaries.
    const incidentId = implicated!.alerts[0]!.incidentId;
    const resolved = await fetch(`${service.url}/api/v1/incidents/${incidentId}/resolve`, { method: 'POST', headers: asOperator, body: JSON.stringify({ reason: 'rolled back by hand' }) });
    expect(resolved.status).toBe(200);
    await eventually(async () => !(await argo(service, { service: 'checkout', ...v240 })).body.implicated, 10_000, 'the resolved incident to clear the implication');
    const afterResolve = (await argo(service, { service: 'checkout', ...v240 })).body;
    expect(afterResolve).toMatchObject({ implicated: false, frozen: true, healthy: false, rollback: { signal: false } });
    expect((await flagger(service, 'confirm-promotion', canary({ ...v240, author: 'human' }))).status).toBe(200);

    // A human lifts the freeze: every gate passes again.
    const lift = await fetch(`${service.url}/api/v1/freezes/${implicated!.freezeIds[0]}/lift`, { method: 'POST', headers: asOperator, body: JSON.stringify({ reason: 'agent fixed' }) });
    expect(lift.status).toBe(200);
    const clear = await argo(service, { service: 'checkout', ...v240 });
    expect(clear.body).toMatchObject({ implicated: false, frozen: false, healthy: true });
    expect(argoMeasurement(clear)).toBe('Successful');
    expect((await flagger(service, 'confirm-promotion', canary(v240))).status).toBe(200);
  });
});
