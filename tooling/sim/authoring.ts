/**
 * Writes plausible change events: who authored them (AI agents, AI-assisted humans, humans), who
 * reviewed them, how big they are and what they say.
 */
import type { AuthorType, ChangeAuthor, ChangeEvent, ChangeType } from '../../contract/events.ts';
import type { Random } from './random.ts';

/** Autonomous coding agents and the models behind them. */
const AGENTS = [
  { agent: 'kiro', model: 'claude-sonnet-4.5' },
  { agent: 'devin', model: 'devin-2' },
  { agent: 'copilot-agent', model: 'gpt-5-codex' },
  { agent: 'claude-code', model: 'claude-opus-4.1' },
] as const;
const ENGINEERS = ['alice', 'bob', 'chen', 'dana', 'emeka', 'fatima', 'gus', 'hana'] as const;
const ASSISTANT_MODELS = ['copilot', 'cursor', 'claude-code'] as const;
const AREAS = ['order', 'session', 'pricing', 'cache', 'retry', 'serialization', 'auth', 'pagination'] as const;
const LIBRARIES = ['grpc-js', 'pg', 'ioredis', 'undici', 'protobufjs', 'zod'] as const;

/** Share of change types in the steady flow of changes. */
export const CHANGE_TYPE_WEIGHTS: Readonly<Record<ChangeType, number>> = {
  deploy: 0.55,
  config: 0.25,
  feature_flag: 0.12,
  infra: 0.05,
  rollback: 0.03,
};

/** Share of author types in the steady flow of changes. */
export const AUTHOR_TYPE_WEIGHTS: Readonly<Record<AuthorType, number>> = {
  ai_agent: 0.35,
  ai_assisted: 0.35,
  human: 0.3,
};

/** Everything about a change except where and when it lands. */
export type AuthoredChange = Pick<ChangeEvent, 'type' | 'author' | 'summary' | 'diff'>;

/** Writes an author; AI agents' changes are reviewed only some of the time. */
export function authorOf(random: Random, type: AuthorType): ChangeAuthor {
  const reviewer = () => [random.pick(ENGINEERS)];
  if (type === 'ai_agent') {
    const { agent, model } = random.pick(AGENTS);
    return { type, name: agent, agent, model, ...(random.chance(0.5) ? { reviewedBy: reviewer() } : {}) };
  }
  const name = random.pick(ENGINEERS);
  const reviewedBy = random.chance(0.8) ? [random.pick(ENGINEERS.filter((e) => e !== name))] : undefined;
  const assisted = type === 'ai_assisted' ? { model: random.pick(ASSISTANT_MODELS) } : {};
  return { type, name, ...assisted, ...(reviewedBy ? { reviewedBy } : {}) };
}

/** Writes the summary and diff of a change of the given type (the version is set by the fleet). */
export function authorChange(random: Random, type: ChangeType, authorType: AuthorType, service: string): AuthoredChange {
  const area = random.pick(AREAS);
  const summaries: Record<ChangeType, string> = {
    deploy: random.pick([
      `Refactor ${area} handling in ${service}`,
      `Bump ${random.pick(LIBRARIES)} to a new minor version`,
      `Add retries to the ${area} client`,
      `Optimize the ${area} query path`,
    ]),
    config: random.pick([
      `Raise upstream timeout to ${random.int(2, 10)}s`,
      `Set connection pool size to ${random.int(10, 80)}`,
      `Adjust rate limit to ${random.int(2, 20) * 100} rps`,
    ]),
    feature_flag: `Enable ${area}-v2 for ${random.pick([1, 5, 10, 25, 50, 100])}% of users`,
    infra: random.pick([`Resize ${service} pods to ${random.int(2, 8)} vCPU`, 'Rotate TLS certificates', 'Move to the new node pool']),
    rollback: 'Roll back the previous release',
  };
  const files = type === 'deploy' ? random.int(1, authorType === 'ai_agent' ? 30 : 15) : 1;
  const linesAdded = type === 'deploy' ? Math.round(random.exponential(authorType === 'ai_agent' ? 260 : 90)) + 1 : random.int(1, 4);
  const linesRemoved = Math.round(linesAdded * random.uniform(0, 0.8));
  return { type, author: authorOf(random, authorType), summary: summaries[type], diff: { files, linesAdded, linesRemoved } };
}
