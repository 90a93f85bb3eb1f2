/**
 * The demo's story end to end, without a browser: its own mock broker (kcat), the service, the live
 * simulator and the stand-in CD system, as `npm run demo` starts them, with a short scenario (the
 * AI agent's bad deploy ships 2 s after start and breaks its canary at once). An operator approves
 * the proposed rollback through the HTTP API; the CD system verifies the signed request and rolls
 * checkout back in the simulator, which emits a `rollback` change the service receives, and the
 * alert resolves once the error rate is back.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../contract/alert.ts';
import type { RollbackView } from '../../../contract/automation.ts';
import type { ChangeEvent } from '../../../contract/events.ts';
import { createLogger } from '../../../server/log.ts';
import { startDemo, type DemoStack } from '../../../tooling/dev/demo-stack.ts';
import { eventually } from '../../support/kafka-helpers.ts';
import { bearer, TEST_TOKENS, testAuthYaml } from '../../support/tokens.ts';

let demo: DemoStack | undefined;
afterAll(async () => {
  await demo?.stop();
});

const asOperator = { ...bearer(TEST_TOKENS.operator), 'content-type': 'application/json' };

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: bearer(TEST_TOKENS.viewer) });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('the demo, end to end', () => {
  it('approving the proposed rollback rolls the simulated checkout back: a verified request, a rollback change the service receives, the alert resolved', { timeout: 150_000 }, async () => {
    const lines: string[] = [];
    demo = await startDemo({
      seed: 42,
      historyMinutes: 120,
      incidentEveryMinutes: 0,
      scorecardEveryMs: 0,
      aiIncidentAfterMs: 2_000,
      aiIncidentEffect: { delayMs: 0, rampMs: 0 },
      resolveAfterMs: 20_000,
      env: { PORT: '0' },
      extraConfigYaml: testAuthYaml(),
      log: createLogger('silent'),
      print: (line) => lines.push(line),
    });
    const { service, simulator, cd } = demo;
    const api = `${service.url}/api/v1`;

    // The AI agent's deploy is named, and its rollback proposed (alert and proposal take 30-60 s).
    let proposal: RollbackView | undefined;
    await eventually(
      async () => {
        proposal = (await get<{ rollbacks: RollbackView[] }>(`${api}/rollbacks?status=pending`)).rollbacks.find((r) => r.service === 'checkout');
        return proposal !== undefined;
      },
      90_000,
      'a rollback proposal for checkout',
    );
    const { fromVersion, toVersion } = proposal!;
    expect(simulator.versionsServing('checkout')).toEqual([toVersion, fromVersion]);
    expect(cd.received).toEqual([]);

    // An anonymous approval is refused; an operator's goes through.
    const approveUrl = `${api}/rollbacks/${proposal!.id}/approve`;
    expect((await fetch(approveUrl, { method: 'POST' })).status).toBe(401);
    const approved = await fetch(approveUrl, { method: 'POST', headers: asOperator, body: JSON.stringify({ comment: 'the canary is the one failing' }) });
    expect(approved.status).toBe(200);

    // The CD system verified the signed request and had the simulator roll checkout back.
    await eventually(() => cd.performed.length > 0, 20_000, 'the rollback carried out by the demo CD system');
    expect(cd.refused).toEqual([]);
    const [performed] = cd.performed;
    expect(performed!.request).toMatchObject({ webhookId: proposal!.id, body: { rollbackId: proposal!.id, changeId: proposal!.changeId, service: 'checkout', fromVersion, toVersion, approvedBy: 'test-operator' } });
    expect(lines.join('\n')).toMatch(new RegExp(`rollback request ${proposal!.id}, signature OK`));
    expect(simulator.versionsServing('checkout')).toEqual([toVersion]);
    await eventually(async () => (await get<{ rollback: RollbackView }>(`${api}/rollbacks/${proposal!.id}`)).rollback.status === 'executed', 10_000, 'the rollback executed');

    // The service received the rollback change from the changes topic.
    let rollbackChange: ChangeEvent | undefined;
    await eventually(
      async () => {
        rollbackChange = (await get<{ changes: ChangeEvent[] }>(`${api}/changes?limit=50`)).changes.find((c) => c.id === performed!.changeId);
        return rollbackChange !== undefined;
      },
      20_000,
      'the rollback change at the service',
    );
    expect(rollbackChange).toMatchObject({ type: 'rollback', service: 'checkout', version: toVersion, previousVersion: fromVersion, author: { name: 'demo-cd-system', reviewedBy: ['test-operator'] } });

    // The error rate recovers and the alert the rollback was for resolves.
    const alertId = performed!.request.body.alertId;
    let alert: Alert | undefined;
    await eventually(
      async () => {
        alert = (await get<{ alert: Alert }>(`${api}/alerts/${alertId}`)).alert;
        return alert.status === 'resolved';
      },
      60_000,
      'the alert resolved',
    );
    expect(alert).toMatchObject({ service: 'checkout', metric: 'error_rate', status: 'resolved' });
    expect(Date.parse(alert!.resolvedAt!)).toBeGreaterThan(rollbackChange!.timestamp);

    const tempDir = demo.tempDir;
    await demo.stop();
    expect(existsSync(tempDir)).toBe(false);
  });
});
