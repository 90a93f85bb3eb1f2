import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../../server/log.ts';

function capture() {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  return { log, lines: (): Array<Record<string, unknown>> => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('RateLimitedLog', () => {
  it('logs the first lines of each key per window, then one summary of what it skipped', () => {
    let now = 0;
    const { log, lines } = capture();
    const limited = new RateLimitedLog(log, 3, 60_000, () => now);
    for (let i = 0; i < 1_000; i++) limited.warn('CW_EVENT_SCHEMA', { i }, 'bad event');
    limited.warn('CW_EVENT_INVALID_JSON', {}, 'not json');
    expect(lines()).toHaveLength(4);
    now = 60_000;
    limited.warn('CW_EVENT_SCHEMA', { i: 1_000 }, 'bad event');
    const all = lines();
    expect(all).toHaveLength(6);
    expect(all[4]).toMatchObject({ key: 'CW_EVENT_SCHEMA', suppressed: 997 });
    expect(all[5]).toMatchObject({ key: 'CW_EVENT_SCHEMA', i: 1_000, msg: 'bad event' });
  });
});
