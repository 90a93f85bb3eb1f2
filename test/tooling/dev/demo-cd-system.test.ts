import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../../contract/events.ts';
import { sendRollbackWebhook, type RollbackWebhookBody } from '../../../server/actions/rollback-webhook.ts';
import { generateWebhookSecret, signWebhook } from '../../../server/alerts/notifiers/standard-webhooks.ts';
import { startDemoCdSystem, verifyRollbackRequest, type DemoCdSystem } from '../../../tooling/dev/demo-cd-system.ts';
import { RollbackRefused, type FleetDeployTarget, type FleetRollbackRequest } from '../../../tooling/dev/live-simulator.ts';

const BODY: RollbackWebhookBody = {
  type: 'rollback.requested',
  rollbackId: 'rb-1',
  changeId: 'chg-ai-1',
  service: 'checkout',
  environment: 'prod',
  fromVersion: 'v2.4.0',
  toVersion: 'v2.3.9',
  alertId: 'alrt-1',
  reason: 'deploy chg-ai-1 (ai_agent kiro) likely caused checkout error_rate; approved by alice: v2.4.0 pods fail',
  evidence: ['error_rate of v2.4.0 is 30× v2.3.9'],
  evidenceKinds: ['version_split'],
  confidence: 0.98,
  approvedBy: 'alice',
  approvedAt: '2026-12-07T23:00:00.000Z',
};
const NOW_SECONDS = 1_796_684_000;

/** The server's own signing of `body` at `NOW_SECONDS`. */
function signed(secret: string, body = JSON.stringify(BODY)): { headers: Record<string, string>; body: string } {
  return { headers: signWebhook(secret, BODY.rollbackId, NOW_SECONDS, body), body };
}

describe('verifyRollbackRequest', () => {
  const secret = generateWebhookSecret();

  it('accepts the signature changewatch computes, and returns the request', () => {
    const { headers, body } = signed(secret);
    expect(verifyRollbackRequest(secret, headers, body, NOW_SECONDS + 3)).toEqual({ ok: true, request: { webhookId: 'rb-1', timestampSeconds: NOW_SECONDS, body: BODY } });
    // A rotated secret: any one of several signatures may match.
    const rotated = { ...headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${headers['webhook-signature']}` };
    expect(verifyRollbackRequest(secret, rotated, body, NOW_SECONDS).ok).toBe(true);
  });

  it('refuses a changed body, another secret, a changed id, a stale or future timestamp and missing headers, saying why', () => {
    const { headers, body } = signed(secret);
    const reasonOf = (result: ReturnType<typeof verifyRollbackRequest>) => (result.ok ? 'accepted' : result.reason);
    expect(reasonOf(verifyRollbackRequest(secret, headers, body.replace('v2.3.9', 'v1.0.0'), NOW_SECONDS))).toMatch(/no v1 signature matches/);
    expect(reasonOf(verifyRollbackRequest(generateWebhookSecret(), headers, body, NOW_SECONDS))).toMatch(/no v1 signature matches/);
    expect(reasonOf(verifyRollbackRequest(secret, { ...headers, 'webhook-id': 'rb-2' }, body, NOW_SECONDS))).toMatch(/no v1 signature matches/);
    expect(reasonOf(verifyRollbackRequest(secret, headers, body, NOW_SECONDS + 301))).toMatch(/-?301 s from this clock .*replay/);
    expect(reasonOf(verifyRollbackRequest(secret, headers, body, NOW_SECONDS - 301))).toMatch(/301 s from this clock/);
    expect(reasonOf(verifyRollbackRequest(secret, { ...headers, 'webhook-signature': '' }, body, NOW_SECONDS))).toMatch(/missing/);
    expect(reasonOf(verifyRollbackRequest(secret, { ...headers, 'webhook-timestamp': '2026-12-07' }, body, NOW_SECONDS))).toMatch(/not unix seconds/);
    // A well-signed body that is not a rollback request is refused too.
    const other = signed(secret, JSON.stringify({ ...BODY, type: 'incident.triggered' }));
    expect(reasonOf(verifyRollbackRequest(secret, other.headers, other.body, NOW_SECONDS))).toMatch(/not a rollback\.requested/);
  });
});

describe('startDemoCdSystem', () => {
  let cd: DemoCdSystem | undefined;
  afterEach(async () => {
    await cd?.stop();
    cd = undefined;
  });

  /** A deployment target that records what it is asked and answers as the live simulator does. */
  function recordingFleet(refuse?: Error): FleetDeployTarget & { asked: FleetRollbackRequest[] } {
    const asked: FleetRollbackRequest[] = [];
    return {
      asked,
      rollBack: async (request) => {
        asked.push(request);
        if (refuse) throw refuse;
        const change: ChangeEvent = { id: `chg-rb-${asked.length}`, type: 'rollback', service: request.service, environment: 'prod', timestamp: Date.now(), author: request.author, summary: request.summary, version: request.toVersion, previousVersion: request.fromVersion };
        return change;
      },
    };
  }

  it('verifies what changewatch sends, prints it, rolls the fleet back once per webhook-id and answers 200', async () => {
    const lines: string[] = [];
    cd = await startDemoCdSystem((line) => lines.push(line));
    const fleet = recordingFleet();
    cd.attach(fleet);
    const target = { url: cd.url, secret: cd.secret };
    expect(await sendRollbackWebhook(target, BODY)).toEqual({ ok: true, status: 200 });
    expect(fleet.asked).toEqual([
      { service: 'checkout', fromVersion: 'v2.4.0', toVersion: 'v2.3.9', author: { type: 'human', name: 'demo-cd-system', reviewedBy: ['alice'] }, summary: expect.stringMatching(/Roll back chg-ai-1 \(v2\.4\.0 → v2\.3\.9\).*rb-1.*alice/) },
    ]);
    expect(cd.performed).toEqual([{ request: expect.objectContaining({ webhookId: 'rb-1', body: BODY }), changeId: 'chg-rb-1' }]);
    const printed = lines.join('\n');
    expect(printed).toMatch(/rollback request rb-1, signature OK/);
    expect(printed).toMatch(/service: +checkout \(prod\)/);
    expect(printed).toMatch(/version: +v2\.4\.0 → v2\.3\.9, undoing change chg-ai-1/);
    expect(printed).toMatch(/requested by: alice/);
    expect(printed).toMatch(/rolled checkout back to v2\.3\.9.*chg-rb-1/);

    // At-least-once delivery: the same request again is answered without a second rollback.
    expect(await sendRollbackWebhook(target, BODY)).toEqual({ ok: true, status: 200 });
    expect(fleet.asked).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/again \(a retry\)/);
  });

  it('refuses a wrong secret or a stale signature with 401, the reason printed, and does nothing', async () => {
    const lines: string[] = [];
    cd = await startDemoCdSystem((line) => lines.push(line));
    const fleet = recordingFleet();
    cd.attach(fleet);
    const wrongSecret = await sendRollbackWebhook({ url: cd.url, secret: generateWebhookSecret() }, BODY);
    expect(wrongSecret).toMatchObject({ ok: false, retryable: false, reason: expect.stringMatching(/HTTP 401.*no v1 signature matches/) });
    const stale = await sendRollbackWebhook({ url: cd.url, secret: cd.secret }, BODY, undefined, () => Date.now() - 10 * 60_000);
    expect(stale).toMatchObject({ ok: false, retryable: false, reason: expect.stringMatching(/HTTP 401.*from this clock/) });
    expect(fleet.asked).toEqual([]);
    expect(cd.received).toEqual([]);
    expect(cd.refused).toHaveLength(2);
    expect(lines).toEqual([expect.stringMatching(/refused a rollback request, nothing done: no v1 signature/), expect.stringMatching(/refused .*replay or a wrong clock/)]);
  });

  it('answers 409 with the reason when the fleet cannot roll back, and 503 (retry) before a fleet is attached', async () => {
    const lines: string[] = [];
    cd = await startDemoCdSystem((line) => lines.push(line));
    const target = { url: cd.url, secret: cd.secret };
    expect(await sendRollbackWebhook(target, BODY)).toMatchObject({ ok: false, retryable: true, reason: expect.stringMatching(/HTTP 503/) });
    cd.attach(recordingFleet(new RollbackRefused('checkout no longer runs v2.4.0 (it runs v2.4.1)')));
    // The retry of the same webhook-id is carried out now that there is a fleet.
    expect(await sendRollbackWebhook(target, BODY)).toMatchObject({ ok: false, retryable: false, reason: expect.stringMatching(/HTTP 409.*no longer runs v2\.4\.0/) });
    expect(lines.at(-1)).toMatch(/not rolled back: checkout no longer runs v2\.4\.0/);
  });

  it('answers 502 when the fleet switched but its rollback change was not produced', async () => {
    const lines: string[] = [];
    cd = await startDemoCdSystem((line) => lines.push(line));
    cd.attach(recordingFleet(new Error('the rollback change chg-16-27 was not produced within 8 s')));
    const outcome = await sendRollbackWebhook({ url: cd.url, secret: cd.secret }, BODY);
    expect(outcome).toMatchObject({ ok: false, retryable: true, reason: expect.stringMatching(/HTTP 502.*not produced/) });
    expect(lines.at(-1)).toMatch(/rolled checkout back, but: the rollback change chg-16-27 was not produced/);
  });
});
