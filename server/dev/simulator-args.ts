/**
 * Command-line options shared by `npm run demo` and `npm run simulate`.
 */
import { parseArgs } from 'node:util';

/** Parses `--seed`, `--history-minutes` and `--incident-every-minutes`. */
export function simulatorArgs(argv: string[]): { seed: number; historyMinutes: number; incidentEveryMinutes: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string', default: '42' },
      'history-minutes': { type: 'string', default: '120' },
      'incident-every-minutes': { type: 'string', default: '4' },
    },
  });
  const parsed = { seed: Number(values.seed), historyMinutes: Number(values['history-minutes']), incidentEveryMinutes: Number(values['incident-every-minutes']) };
  for (const [name, value] of Object.entries(parsed)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a non-negative number`);
  }
  return parsed;
}
