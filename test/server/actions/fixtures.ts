/** Builders for suspects, candidates and configs shared by the guarded-automation tests. */
import type { EvidenceKind, Suspect, SuspectChange } from '../../../contract/events.ts';
import { rollbackConfigSchema, type RollbackCandidate, type RollbackConfig } from '../../../server/actions/rollback-policy.ts';

/** A Standard Webhooks secret for tests (base64 of "changewatch-test-rollback-key"). */
export const TEST_SECRET = `whsec_${Buffer.from('changewatch-test-rollback-key').toString('base64')}`;

/** A suspect: by default an AI agent's deploy of checkout v2 → v1 with version-split and timing evidence at 0.91. */
export function suspect(overrides: Partial<Omit<Suspect, 'change'>> & { change?: Partial<SuspectChange> } = {}): Suspect {
  const { change, ...rest } = overrides;
  return {
    changeId: 'chg-123',
    confidence: 0.91,
    evidence: ['error rate rose 4 min after the deploy', 'only pods on v2 are failing'],
    evidenceKinds: ['version_split', 'timing'] as EvidenceKind[],
    ...rest,
    change: {
      type: 'deploy',
      service: 'checkout',
      author: { type: 'ai_agent', name: 'kiro-bot', agent: 'kiro' },
      version: 'v2',
      previousVersion: 'v1',
      timestamp: Date.parse('2026-11-23T14:00:00Z'),
      ...change,
    },
  };
}

/** A candidate alert on checkout in prod, inside incident inc-9. */
export function candidate(suspects: Suspect[] = [suspect()], overrides: Partial<RollbackCandidate> = {}): RollbackCandidate {
  return { alertId: 'alt-1', incidentId: 'inc-9', service: 'checkout', environment: 'prod', suspects, ...overrides };
}

/** A parsed rollback config over the defaults, pointing at `url`. */
export function rollbackConfig(overrides: Record<string, unknown> = {}, url = 'http://127.0.0.1:9/rollback'): RollbackConfig {
  return rollbackConfigSchema.parse({ webhook: { url, secret: TEST_SECRET }, ...overrides });
}
