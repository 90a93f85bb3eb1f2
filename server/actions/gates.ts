/**
 * Progressive-delivery gates: a canary controller (Argo Rollouts' web metric provider, Flagger's
 * webhooks) asks "is this service, or this version of it, implicated right now?" and gets one
 * answer built from what changewatch already knows:
 *
 * - **open alerts** in the store (firing or acknowledged, in an incident nobody resolved) whose
 *   suspects name a change of that service — of that version when one is given — in that
 *   environment when one is given, at confidence ≥ `minConfidence`: the canary is *implicated*;
 * - **freezes** (`FreezeService.gate`, the same answer as `GET /api/v1/gate`): the canary is *frozen*;
 * - for Flagger's `rollback` hook, whether changewatch would **signal a rollback** of the canary: a
 *   stricter bar (the version named, `rollback.when.minConfidence`, evidence beyond timing, not
 *   itself a rollback, the kill switch off, `rollback.mode` neither `off` nor `dry-run`).
 *
 * Reads only: nothing here writes the store or the audit log. Alerts are read from the store, not
 * from this instance's memory, so every instance of a deployment sharing one PostgreSQL gives the
 * same answer whichever owns the broken series.
 */
import type { Alert } from '../../contract/alert.ts';
import { changeInWords, EVIDENCE_KIND_WORDS, percentInWords, type AuthorType, type EvidenceKind, type Suspect } from '../../contract/events.ts';
import type { Store } from '../store/store.ts';
import type { FreezeService } from './freeze.ts';
import type { KillSwitch } from './kill-switch.ts';
import { formatConfidence, type RollbackConfig } from './rollback-policy.ts';

/**
 * Confidence at or above which a suspect implicates a canary when the caller does not say: more
 * likely than not the cause. Halting a canary is cheap and reversible (it waits, it is not rolled
 * back; the rollback hook has its own stricter bar), so the gate halts on even odds rather than wait
 * for the near-certainty a rollback needs.
 */
export const DEFAULT_GATE_MIN_CONFIDENCE = 0.5;

/** Most open alerts one answer looks at (the store's page limit). */
const MAX_OPEN_ALERTS = 1_000;

/** What a controller asks about. */
export interface CanaryQuery {
  /** The service the canary ships (a change's `service`). */
  service: string;
  /** The canary's version (a change's `version`); without it, any change of the service counts. */
  version?: string;
  /** Only alerts of this environment count; without it, every environment. */
  environment?: string;
  /** Who wrote the canary, for freezes; treated as `ai_agent` when unknown (the brake fails closed). */
  authorType?: AuthorType;
  /** The AI agent's name, for agent-scoped freezes. */
  agent?: string;
  /** Default {@link DEFAULT_GATE_MIN_CONFIDENCE}. */
  minConfidence?: number;
}

/** One open alert that implicates the canary, as the answer lists it. */
export interface ImplicatingAlert {
  alertId: string;
  incidentId: string;
  /** The alerting service (the symptom; the suspect change may be upstream of it). */
  service: string;
  environment: string;
  metric: string;
  status: Alert['status'];
  severity: Alert['severity'];
  changeId: string;
  changeType: string;
  version?: string;
  confidence: number;
  evidenceKinds: EvidenceKind[];
  explanation: string;
}

/** The answer. */
export interface CanaryAssessment {
  service: string;
  version?: string;
  environment?: string;
  /** An open alert names a change of this service (and version) at confidence ≥ `minConfidence`. */
  implicated: boolean;
  /** A freeze blocks changes to this service by this author. */
  frozen: boolean;
  /** Neither implicated nor frozen: what Argo's `successCondition` tests. */
  healthy: boolean;
  /** The highest confidence among the implicating suspects, 0 when none. */
  score: number;
  minConfidence: number;
  /** Plain sentences: why, what did not count, how to clear it. */
  reasons: string[];
  /** The implicating alerts, most confident first. */
  alerts: ImplicatingAlert[];
  /** Freezes that block this canary. */
  freezeIds: string[];
  /** Whether changewatch signals a rollback of the canary (Flagger's `rollback` hook), and why (not). */
  rollback: { signal: boolean; reasons: string[] };
}

/** What the gates read. */
export interface CanaryGatesOptions {
  store: Store;
  freezes: FreezeService;
  killSwitch: KillSwitch;
  rollbackConfig: RollbackConfig;
}

/** Answers canary controllers. */
export class CanaryGates {
  constructor(private readonly options: CanaryGatesOptions) {}

  async assess(query: CanaryQuery): Promise<CanaryAssessment> {
    const { store, freezes, killSwitch, rollbackConfig } = this.options;
    const minConfidence = query.minConfidence ?? DEFAULT_GATE_MIN_CONFIDENCE;
    const what = describeCanary(query);
    const [alerts, openIncidents, killSwitchState] = await Promise.all([
      store.alerts.list({ status: ['firing', 'acknowledged'], ...(query.environment === undefined ? {} : { environment: query.environment }), limit: MAX_OPEN_ALERTS }),
      store.incidents.list({ status: ['firing', 'acknowledged'], limit: MAX_OPEN_ALERTS }),
      killSwitch.state(),
    ]);
    // An alert counts while its incident is open: once a person resolved the incident, its alerts
    // are detached (they go no further in the router) and no longer hold canaries back.
    const incidentOf = new Map<string, string>();
    for (const incident of openIncidents) for (const alertId of incident.alertIds) incidentOf.set(alertId, incident.id);

    const implicating: ImplicatingAlert[] = [];
    const notCounted: string[] = [];
    for (const alert of alerts) {
      const incidentId = incidentOf.get(alert.id);
      if (incidentId === undefined) continue;
      for (const suspect of alert.suspects) {
        if (suspect.change.service !== query.service) continue;
        if (query.version !== undefined && suspect.change.version !== query.version) {
          notCounted.push(`alert ${alert.id} names ${suspect.change.type} ${suspect.changeId} (${suspect.change.version ?? 'no version'}), not ${query.version}`);
          continue;
        }
        if (suspect.confidence < minConfidence) {
          notCounted.push(`alert ${alert.id} names ${suspect.changeId} at ${formatConfidence(suspect.confidence)}, below ${minConfidence}`);
          continue;
        }
        implicating.push({
          alertId: alert.id,
          incidentId,
          service: alert.service,
          environment: alert.environment,
          metric: alert.metric,
          status: alert.status,
          severity: alert.severity,
          changeId: suspect.changeId,
          changeType: suspect.change.type,
          ...(suspect.change.version === undefined ? {} : { version: suspect.change.version }),
          confidence: suspect.confidence,
          evidenceKinds: evidenceKindsOf(suspect),
          explanation: alert.explanation,
        });
      }
    }
    implicating.sort((a, b) => b.confidence - a.confidence || a.alertId.localeCompare(b.alertId));

    const gate = await freezes.gate({ service: query.service, authorType: query.authorType ?? 'ai_agent', ...(query.agent === undefined ? {} : { agent: query.agent }) });
    const frozen = !gate.allow;

    const reasons: string[] = [];
    for (const found of implicating) {
      reasons.push(
        `${found.changeType} ${found.changeId}${found.version ? ` (${found.version})` : ''} is the suspect (${formatConfidence(found.confidence)}) of ${found.status} alert ${found.alertId} on ${found.service} ${found.metric} (${found.environment}), incident ${found.incidentId}`,
      );
    }
    if (frozen) reasons.push(gate.reason);
    if (implicating.length === 0 && !frozen) reasons.push(`no open alert implicates ${what} at confidence ≥ ${minConfidence}, and no freeze applies`);
    // What did not count is said too, so a person reading a halted controller's log sees the whole picture.
    for (const line of dedupe(notCounted).slice(0, 5)) reasons.push(`not counted: ${line}`);
    if (implicating.length > 0) reasons.push('the gate clears when those alerts resolve or a person resolves their incident');

    return {
      service: query.service,
      ...(query.version === undefined ? {} : { version: query.version }),
      ...(query.environment === undefined ? {} : { environment: query.environment }),
      implicated: implicating.length > 0,
      frozen,
      healthy: implicating.length === 0 && !frozen,
      score: implicating[0]?.confidence ?? 0,
      minConfidence,
      reasons,
      alerts: implicating,
      freezeIds: gate.freezeIds,
      rollback: rollbackSignal(query, implicating, rollbackConfig, killSwitchState),
    };
  }
}

/**
 * Whether the canary should be rolled back now. Aborting a canary takes traffic back from a version
 * still under analysis (what Flagger does on its own failed checks), so no human approval is asked,
 * but the guardrails that keep changewatch from acting on weak evidence apply.
 */
function rollbackSignal(
  query: CanaryQuery,
  implicating: readonly ImplicatingAlert[],
  config: RollbackConfig,
  killSwitch: { engaged: boolean; by?: string; reason?: string },
): { signal: boolean; reasons: string[] } {
  const blocked: string[] = [];
  if (config.mode === 'off' || config.mode === 'dry-run') blocked.push(`rollback.mode is ${config.mode}, so changewatch signals no rollback`);
  if (killSwitch.engaged) blocked.push(`the kill switch is on (by ${killSwitch.by ?? 'unknown'}${killSwitch.reason ? `: ${killSwitch.reason}` : ''})`);
  // Without the canary's version a service-level match may be another release: the canary could be the fix.
  if (query.version === undefined) blocked.push('no version given: changewatch never rolls back a canary it cannot tell apart from the change it blames');
  const strong = implicating.filter(
    (found) => found.confidence >= config.when.minConfidence && found.changeType !== 'rollback' && found.evidenceKinds.some((kind) => kind !== 'timing'),
  );
  if (implicating.length === 0) blocked.push('nothing implicates the canary');
  else if (strong.length === 0) {
    blocked.push(
      `no implicating suspect has confidence ≥ rollback.when.minConfidence ${config.when.minConfidence} with evidence beyond timing (and is not itself a rollback)`,
    );
  }
  if (blocked.length > 0) return { signal: false, reasons: blocked };
  const top = strong[0]!;
  return {
    signal: true,
    // A person reads this in Argo's or Flagger's UI: the words of the dashboard, the alert's id for looking it up.
    reasons: [
      `${changeInWords({ type: top.changeType, version: top.version }, top.changeId)} likely caused the anomaly of ${top.service} ${top.metric} (${percentInWords(top.confidence)} likely; evidence: ${top.evidenceKinds.map((kind) => EVIDENCE_KIND_WORDS[kind]).join('; ')}; alert ${top.alertId}): roll the canary back`,
    ],
  };
}

/** The suspect's evidence kinds, once each, priors left out (they say how risky a kind of change is, not that this one did it). */
function evidenceKindsOf(suspect: Suspect): EvidenceKind[] {
  return [...new Set(suspect.evidenceKinds ?? [])].filter((kind) => kind !== 'prior');
}

function describeCanary(query: CanaryQuery): string {
  return `${query.service}${query.version ? ` ${query.version}` : ''}${query.environment ? ` in ${query.environment}` : ''}`;
}

function dedupe(lines: readonly string[]): string[] {
  return [...new Set(lines)];
}
