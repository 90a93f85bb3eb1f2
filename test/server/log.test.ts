import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine, readableLog, RateLimitedLog } from '../../server/log.ts';

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

describe('readable log lines', () => {
  it('prints a pino line as time, level, component, message and key=value fields, an error with its stack below', () => {
    const printed: string[] = [];
    const log = createLogger('info', 'changewatch', readableLog({ write: (text) => printed.push(text) }));
    log.child({ component: 'delivery' }).warn({ endpoint: 'pager', attempts: 3, reason: 'HTTP 503 from pager' }, 'delivery failed');
    const err = new Error('connect ECONNREFUSED 127.0.0.1:9092');
    log.error({ err }, 'cannot reach Kafka');
    log.debug('not at info');
    expect(printed).toHaveLength(2);
    expect(printed[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  delivery: delivery failed endpoint=pager attempts=3 reason="HTTP 503 from pager"\n$/);
    const [head, ...stack] = printed[1]!.trimEnd().split('\n');
    expect(head).toMatch(/ ERROR changewatch: cannot reach Kafka$/);
    expect(stack[0]).toBe('    Error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(stack.slice(1).every((line) => line.startsWith('        at '))).toBe(true);
  });

  it('leaves a line that is not pino JSON as it is', () => {
    expect(formatLogLine('plain text')).toBe('plain text');
    expect(formatLogLine('{"no":"level"}')).toBe('{"no":"level"}');
    expect(formatLogLine('{"level":30,"time":0,"msg":"hi"}')).toBe('00:00:00.000 INFO  hi');
  });
});
