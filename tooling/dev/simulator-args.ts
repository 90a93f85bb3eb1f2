/**
 * Command-line options shared by `npm run demo` and `npm run simulate`, and the demo's own.
 */
import { parseArgs } from 'node:util';

/** Options of the simulator. */
export interface SimulatorArgs {
  seed: number;
  historyMinutes: number;
  incidentEveryMinutes: number;
}

/** Options of `npm run demo`: the simulator's and how often the scorecard is printed (0: only on exit). */
export interface DemoArgs extends SimulatorArgs {
  scorecardEveryMinutes: number;
}

const SIMULATOR_OPTIONS = {
  seed: { type: 'string', default: '42' },
  'history-minutes': { type: 'string', default: '120' },
  'incident-every-minutes': { type: 'string', default: '4' },
} as const;

/** Parses `--seed`, `--history-minutes` and `--incident-every-minutes`. */
export function simulatorArgs(argv: string[]): SimulatorArgs {
  const { values } = parseArgs({ args: argv, options: SIMULATOR_OPTIONS });
  return checked({ seed: Number(values.seed), historyMinutes: Number(values['history-minutes']), incidentEveryMinutes: Number(values['incident-every-minutes']) });
}

/** Parses the simulator's options and `--scorecard-every-minutes` (default 3). */
export function demoArgs(argv: string[]): DemoArgs {
  const { values } = parseArgs({ args: argv, options: { ...SIMULATOR_OPTIONS, 'scorecard-every-minutes': { type: 'string', default: '3' } } });
  return checked({
    seed: Number(values.seed),
    historyMinutes: Number(values['history-minutes']),
    incidentEveryMinutes: Number(values['incident-every-minutes']),
    scorecardEveryMinutes: Number(values['scorecard-every-minutes']),
  });
}

function checked<T extends object>(parsed: T): T {
  for (const [name, value] of Object.entries(parsed)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a non-negative number`);
  }
  return parsed;
}
