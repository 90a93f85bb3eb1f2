import { describe, expect, it } from 'vitest';
import { decideRollback, rollbackConfigSchema, type PolicyState } from '../../../server/actions/rollback-policy.ts';
import { candidate, rollbackConfig, suspect, TEST_SECRET } from './fixtures.ts';

const NOW = Date.parse('2026-11-23T14:05:00Z');
const calm: PolicyState = { now: NOW, killSwitch: { engaged: false }, takenFleetLastHour: 0, takenServiceLastHour: 0 };

describe('rollbackConfigSchema', () => {
  it('defaults to require-approval with the documented conditions and limits', () => {
    const config = rollbackConfigSchema.parse({ webhook: { url: 'https://cd.example.com/rollback', secret: TEST_SECRET } });
    expect(config.mode).toBe('require-approval');
    expect(config.when).toEqual({ minConfidence: 0.8, authorTypes: ['ai_agent'], changeTypes: ['deploy', 'config', 'feature_flag'] });
    expect(config.limits).toEqual({ perHour: 3, perServicePerHour: 1, cooldownMinutes: 30 });
    expect(config.approvalTtlMinutes).toBe(15);
  });

  it('requires a webhook for automatic mode, and rejects unknown keys and bad secrets', () => {
    // require-approval without a webhook still proposes; approving is refused (a human rolls back by hand).
    expect(rollbackConfigSchema.safeParse({}).success).toBe(true);
    expect(rollbackConfigSchema.safeParse({ mode: 'automatic' }).success).toBe(false);
    expect(rollbackConfigSchema.safeParse({ mode: 'dry-run' }).success).toBe(true);
    expect(rollbackConfigSchema.safeParse({ mode: 'off' }).success).toBe(true);
    expect(rollbackConfigSchema.safeParse({ mode: 'dry-run', limit: {} }).success).toBe(false);
    expect(rollbackConfigSchema.safeParse({ webhook: { url: 'https://cd.example.com', secret: 'plain' } }).success).toBe(false);
  });
});

describe('decideRollback', () => {
  it('proposes a rollback of a well-evidenced AI deploy and says why', () => {
    const decision = decideRollback(candidate(), rollbackConfig(), calm);
    expect(decision.outcome).toBe('proposed');
    expect(decision).toMatchObject({ fromVersion: 'v2', toVersion: 'v1', evidenceKinds: ['version_split', 'timing'] });
    expect(decision.reasons[0]).toContain('the deploy chg-123 (v2) by AI agent kiro likely caused the anomaly on checkout (91 % likely');
    // A change with a summary is named by it, not by its id.
    const named = decideRollback(candidate([suspect({ change: { summary: 'Add retries to the order client' } })]), rollbackConfig(), calm);
    expect(named.summary).toMatch(/^the deploy 'Add retries to the order client' \(v2\) by AI agent kiro likely caused/);
    // Evidence kinds and author types in words, never as identifiers.
    expect(decision.summary).toContain('evidence: only the new version is affected; started right after the change)');
    expect(decision.summary).not.toMatch(/ai_agent|version_split/);
  });

  it('does nothing useful in mode off and records only in dry-run', () => {
    expect(decideRollback(candidate(), rollbackConfig({ mode: 'off' }), calm)).toMatchObject({ outcome: 'suppressed', reasons: ['rollback.mode is off'] });
    const dry = decideRollback(candidate(), rollbackConfig({ mode: 'dry-run' }), calm);
    expect(dry.outcome).toBe('dry-run');
    expect(dry.reasons[0]).toContain('dry-run: recorded, not sent');
  });

  it('applies the same guardrails in dry-run, so it shows exactly what would happen', () => {
    const decision = decideRollback(candidate([suspect({ evidenceKinds: ['timing'] })]), rollbackConfig({ mode: 'dry-run' }), calm);
    expect(decision.outcome).toBe('suppressed');
  });

  it('suppresses everything while the kill switch is on, naming who turned it on', () => {
    const decision = decideRollback(candidate(), rollbackConfig({ mode: 'automatic' }), {
      ...calm,
      killSwitch: { engaged: true, by: 'alice', reason: 'game day' },
    });
    expect(decision.outcome).toBe('suppressed');
    expect(decision.reasons).toEqual(['the kill switch is on (by alice: game day)']);
  });

  it('never rolls back a rollback', () => {
    const decision = decideRollback(candidate([suspect({ change: { type: 'rollback' } })]), rollbackConfig({ when: { changeTypes: ['rollback', 'deploy'] } }), calm);
    expect(decision.outcome).toBe('suppressed');
    expect(decision.reasons).toContain('chg-123 is itself a rollback; changewatch never rolls back a rollback');
  });

  it('suppresses when there is no previous version to return to', () => {
    const decision = decideRollback(candidate([suspect({ change: { previousVersion: undefined } })]), rollbackConfig(), calm);
    expect(decision).toMatchObject({ outcome: 'suppressed', reasons: ['chg-123 has no previousVersion, so there is nothing to roll back to'] });
  });

  it('never acts on timing-only evidence, and treats a suspect without kinds as timing-only', () => {
    const timingOnly = decideRollback(candidate([suspect({ evidenceKinds: ['timing', 'timing'] })]), rollbackConfig(), calm);
    expect(timingOnly).toMatchObject({ outcome: 'suppressed', reasons: ['the only evidence against chg-123 is timing, which is never enough to act'] });
    const { evidenceKinds: _omitted, ...withoutKinds } = suspect();
    const unknown = decideRollback(candidate([withoutKinds]), rollbackConfig({ mode: 'automatic' }), calm);
    expect(unknown.outcome).toBe('suppressed');
    expect(unknown.reasons[0]).toContain('no machine-readable evidence kinds');
  });

  it('never counts a prior (risky kind of change) as evidence against this change', () => {
    const priorOnly = decideRollback(candidate([suspect({ evidenceKinds: ['timing', 'prior'] })]), rollbackConfig(), calm);
    expect(priorOnly).toMatchObject({ outcome: 'suppressed', evidenceKinds: ['timing'] });
    const automatic = decideRollback(candidate([suspect({ evidenceKinds: ['before_after', 'prior'] })]), rollbackConfig({ mode: 'automatic' }), calm);
    expect(automatic.outcome).toBe('proposed');
  });

  it('executes in automatic mode only with two independent kinds of evidence, else asks a human', () => {
    const automatic = rollbackConfig({ mode: 'automatic' });
    expect(decideRollback(candidate(), automatic, calm).outcome).toBe('executed');
    const oneKind = decideRollback(candidate([suspect({ evidenceKinds: ['version_split'] })]), automatic, calm);
    expect(oneKind.outcome).toBe('proposed');
    expect(oneKind.reasons[0]).toContain('automatic mode needs two independent kinds of evidence, found one');
  });

  it('checks confidence, author type, change type and environment, listing every failed condition', () => {
    const decision = decideRollback(
      candidate([suspect({ confidence: 0.5, change: { type: 'infra', author: { type: 'human', name: 'bob' } } })], { environment: 'staging' }),
      rollbackConfig({ when: { environments: ['prod'] } }),
      calm,
    );
    expect(decision.outcome).toBe('suppressed');
    expect(decision.reasons).toEqual([
      'confidence 0.50 is below rollback.when.minConfidence 0.8',
      'author type human is not in rollback.when.authorTypes [ai_agent]',
      'change type infra is not in rollback.when.changeTypes [deploy, config, feature_flag]',
      'environment staging is not in rollback.when.environments [prod]',
    ]);
  });

  it('acts on the most confident suspect, not the first listed', () => {
    const weak = suspect({ changeId: 'chg-weak', confidence: 0.3 });
    const decision = decideRollback(candidate([weak, suspect({ changeId: 'chg-strong', confidence: 0.95 })]), rollbackConfig(), calm);
    expect(decision.suspect?.changeId).toBe('chg-strong');
  });

  it('enforces the fleet-wide and per-service hourly limits at their exact boundary', () => {
    const config = rollbackConfig();
    expect(decideRollback(candidate(), config, { ...calm, takenFleetLastHour: 2 }).outcome).toBe('proposed');
    expect(decideRollback(candidate(), config, { ...calm, takenFleetLastHour: 3 }).reasons).toEqual([
      'fleet-wide limit reached: 3 rollbacks in the last hour (rollback.limits.perHour 3)',
    ]);
    expect(decideRollback(candidate(), config, { ...calm, takenServiceLastHour: 1 }).reasons).toEqual([
      'limit for checkout reached: 1 rollbacks in the last hour (rollback.limits.perServicePerHour 1)',
    ]);
  });

  it('holds a cooldown per service and lets the next one through once it has passed', () => {
    const config = rollbackConfig({ limits: { perServicePerHour: 10, cooldownMinutes: 30 } });
    const during = decideRollback(candidate(), config, { ...calm, lastTakenForServiceAt: NOW - 29 * 60_000 });
    expect(during.reasons).toEqual(['checkout was rolled back 29 min ago; cooldown is 30 min']);
    expect(decideRollback(candidate(), config, { ...calm, lastTakenForServiceAt: NOW - 30 * 60_000 }).outcome).toBe('proposed');
  });

  it('suppresses when there is no suspect at all', () => {
    expect(decideRollback(candidate([]), rollbackConfig(), calm)).toMatchObject({ outcome: 'suppressed', reasons: ['no suspect change to roll back'] });
  });
});
