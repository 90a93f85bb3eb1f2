/**
 * Stages, Alertmanager-style: each step of alert handling is one `Stage` with one method, and
 * `chain` runs stages in order, each on what the previous one returned. A stage that returns
 * `undefined` ends the chain there (nothing further to do for this input). The router wires its
 * chains in one place (server/alerts/alert-router.ts).
 */

/** One step of alert handling. */
export interface Stage<In, Out = In> {
  /** Names the stage in logs and tests. */
  readonly name: string;
  /** Handles the input; `undefined` stops the chain. */
  run(input: In): Promise<Out | undefined>;
}

/** Runs the stages in order; the chain stops at the first stage that returns `undefined`. */
export function chain<A, B>(s1: Stage<A, B>): Stage<A, B>;
export function chain<A, B, C>(s1: Stage<A, B>, s2: Stage<B, C>): Stage<A, C>;
export function chain<A, B, C, D>(s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>): Stage<A, D>;
export function chain<A, B, C, D, E>(s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>, s4: Stage<D, E>): Stage<A, E>;
export function chain<A, B, C, D, E, F>(s1: Stage<A, B>, s2: Stage<B, C>, s3: Stage<C, D>, s4: Stage<D, E>, s5: Stage<E, F>): Stage<A, F>;
export function chain(...stages: Array<Stage<unknown, unknown>>): Stage<unknown, unknown> {
  return {
    name: stages.map((stage) => stage.name).join(' → '),
    async run(input) {
      let value: unknown = input;
      for (const stage of stages) {
        value = await stage.run(value);
        if (value === undefined) return undefined;
      }
      return value;
    },
  };
}
