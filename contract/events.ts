/**
 * Domain events shared by detection, attribution, the server and the dashboard: plain typed objects,
 * already validated and normalized (timestamps in epoch milliseconds). The wire format and its
 * validation live in server/wire; this file is everyone's view of the same things.
 */

/** Who wrote a change. */
export const AUTHOR_TYPES = ['ai_agent', 'ai_assisted', 'human'] as const;
/** Who wrote a change: an autonomous AI agent, a human assisted by AI, or a human. */
export type AuthorType = (typeof AUTHOR_TYPES)[number];

/** Kinds of production change changewatch tracks. */
export const CHANGE_TYPES = ['deploy', 'config', 'feature_flag', 'infra', 'rollback'] as const;
/** A kind of production change. */
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The author of a change and its provenance. */
export interface ChangeAuthor {
  type: AuthorType;
  name: string;
  agent?: string;
  model?: string;
  reviewedBy?: string[];
}

/** A deploy, config change, feature flag flip, infra change or rollback. */
export interface ChangeEvent {
  id: string;
  type: ChangeType;
  service: string;
  environment: string;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  version?: string;
  previousVersion?: string;
  author: ChangeAuthor;
  summary?: string;
  diff?: { files?: number; linesAdded?: number; linesRemoved?: number };
  links?: { pr?: string; commit?: string };
}

/** One telemetry sample of one metric of one service. */
export interface TelemetryPoint {
  service: string;
  metric: string;
  value: number;
  /** Event time, epoch milliseconds. */
  timestamp: number;
  /** Number of underlying events behind `value` (e.g. requests behind an error ratio), when known. */
  count?: number;
  tags?: Record<string, string>;
}

/** A service catalog entry: which services this one calls. */
export interface ServiceEntry {
  name: string;
  dependsOn: string[];
}

/** The slice of a change an alert carries about each suspect. */
export interface SuspectChange {
  type: ChangeType;
  service: string;
  author: ChangeAuthor;
  summary?: string;
  version?: string;
  previousVersion?: string;
  timestamp: number;
  /** The change's pull request and commit, when its event gave them (as given: check the scheme before linking). */
  links?: { pr?: string; commit?: string };
}

/** A change that may have caused an anomaly, with the evidence for it. */
export interface Suspect {
  changeId: string;
  /** Probability in [0, 1] that this change caused the anomaly. */
  confidence: number;
  /** Readable evidence lines, strongest first. */
  evidence: string[];
  /**
   * Machine-readable kinds of the evidence that incriminates the change (priors excluded), one entry per kind. Guarded
   * automation reads these: a suspect without them is treated as timing-only and never acted on.
   */
  evidenceKinds?: EvidenceKind[];
  /**
   * The lines of `evidence` that weigh against this change (they lowered its confidence), e.g. "the
   * metric did not move after the change"; absent when none does. Show them apart, as such.
   */
  evidenceAgainst?: string[];
  change: SuspectChange;
}

/** Independent kinds of evidence the attribution engine can hold against a change. */
export const EVIDENCE_KINDS = ['timing', 'topology', 'version_split', 'before_after', 'prior'] as const;
/**
 * A kind of evidence: `timing` (the anomaly followed the change), `topology` (the change's service
 * is upstream of the symptom), `version_split` (only the new version misbehaves), `before_after`
 * (the metric shifted at the change), `prior` (this kind of change or author failed before).
 */
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Each evidence kind as a person says it, for the dashboard and for sentences the server writes (rollback summaries). */
export const EVIDENCE_KIND_WORDS: Readonly<Record<EvidenceKind, string>> = {
  timing: 'started right after the change',
  topology: 'the changed service is where the symptom starts',
  version_split: 'only the new version is affected',
  before_after: 'the metric shifted when the change landed',
  prior: 'changes like this have failed before',
};

/** Each author type as a person says it. */
export const AUTHOR_TYPE_WORDS: Readonly<Record<AuthorType, string>> = {
  ai_agent: 'AI agent',
  ai_assisted: 'AI-assisted',
  human: 'human',
};

/** Each change type as a person says it, lower case for the middle of a sentence. */
export const CHANGE_TYPE_WORDS: Readonly<Record<ChangeType, string>> = {
  deploy: 'deploy',
  config: 'config change',
  feature_flag: 'feature flag change',
  infra: 'infrastructure change',
  rollback: 'rollback',
};

/** A change's author as a person says it: "AI agent kiro", "alice (AI-assisted, copilot)", "bob". */
export function authorInWords(author: ChangeAuthor): string {
  if (author.type === 'ai_agent') return `AI agent ${author.agent ?? author.name}`;
  if (author.type === 'ai_assisted') {
    const assistant = author.agent ?? author.model;
    return `${author.name} (AI-assisted${assistant ? `, ${assistant}` : ''})`;
  }
  return author.name;
}

/**
 * A change as a person names it in a sentence: "the deploy 'Add retries to the order client' (v2.19.2)",
 * by its summary when it has one (cut to `maxSummary` characters with an ellipsis), else by its id.
 */
export function changeInWords(change: { type: string; summary?: string; version?: string }, changeId: string, maxSummary = Infinity): string {
  const kind = CHANGE_TYPE_WORDS[change.type as ChangeType] ?? change.type;
  const summary = change.summary?.trim();
  const what = summary ? `'${summary.length <= maxSummary ? summary : `${summary.slice(0, maxSummary - 1).trimEnd()}…`}'` : changeId;
  return `the ${kind} ${what}${change.version ? ` (${change.version})` : ''}`;
}

/** A probability as sentences say it: "99 %". */
export function percentInWords(probability: number): string {
  return `${Math.round(probability * 100)} %`;
}
