import type { Message, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.ts';
import { PublishQueue, type BatchSender } from '../../../server/ingest/publish-queue.ts';

/** A producer whose requests stay open until the test settles them, one at a time. */
class HeldSender implements BatchSender {
  readonly requests: Array<{ batch: ProducerBatch; settle: (error?: Error) => void }> = [];
  readonly acknowledged: string[] = [];

  sendBatch(batch: ProducerBatch): Promise<never[]> {
    return new Promise((resolve, reject) => {
      this.requests.push({
        batch,
        settle: (error) => {
          if (error) return reject(error);
          for (const { topic, messages } of batch.topicMessages ?? []) for (const m of messages) this.acknowledged.push(`${topic}:${String(m.value)}`);
          resolve([]);
        },
      });
    });
  }

  /** Settles the oldest open request. */
  async next(error?: Error): Promise<ProducerBatch> {
    await until(() => this.requests.length > 0);
    const request = this.requests.shift()!;
    request.settle(error);
    return request.batch;
  }
}

const messages = (...values: string[]): Message[] => values.map((value) => ({ key: null, value }));
const flatten = (batch: ProducerBatch): string[] => (batch.topicMessages ?? []).flatMap(({ topic, messages: m }) => m.map((x) => `${topic}:${String(x.value)}`));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!condition()) throw new Error('timed out');
}

describe('PublishQueue', () => {
  it('keeps one request in flight and sends what was queued meanwhile together, in order', async () => {
    const sender = new HeldSender();
    const queue = new PublishQueue(sender, createLogger('silent'), { maxBackoffMs: 1, lingerMs: 0 });
    queue.add('alerts', messages('a1'));
    queue.add('alerts', messages('a2', 'a3'));
    queue.add('deadletter', messages('d1'));
    expect(queue.backlog).toBe(4);

    expect(flatten(await sender.next())).toEqual(['alerts:a1']);
    expect(flatten(await sender.next())).toEqual(['alerts:a2', 'alerts:a3', 'deadletter:d1']);
    await queue.flushed();
    expect(queue.backlog).toBe(0);
    expect(sender.requests).toHaveLength(0);
  });

  it('lingers before each request, so messages queued in a burst go out in one', async () => {
    const sender = new HeldSender();
    const queue = new PublishQueue(sender, createLogger('silent'), { maxBackoffMs: 1, lingerMs: 20 });
    queue.add('alerts', messages('a1'));
    await new Promise((r) => setTimeout(r, 5));
    queue.add('alerts', messages('a2'));
    queue.add('deadletter', messages('d1'));
    expect(sender.requests).toHaveLength(0);
    expect(flatten(await sender.next())).toEqual(['alerts:a1', 'alerts:a2', 'deadletter:d1']);
    await queue.flushed();
  });

  it('flushed() waits until everything queued before it is acknowledged', async () => {
    const sender = new HeldSender();
    const queue = new PublishQueue(sender, createLogger('silent'), { maxBackoffMs: 1, lingerMs: 0 });
    queue.add('alerts', messages('a1'));
    let flushed = false;
    const waiting = queue.flushed().then(() => (flushed = true));
    queue.add('alerts', messages('a2'));
    await sender.next();
    await new Promise((r) => setTimeout(r, 5));
    expect(flushed).toBe(false);
    await sender.next();
    await waiting;
    expect(sender.acknowledged).toEqual(['alerts:a1', 'alerts:a2']);
  });

  it('retries a failed request before anything queued after it, so the order holds through an outage', async () => {
    const sender = new HeldSender();
    const queue = new PublishQueue(sender, createLogger('silent'), { maxBackoffMs: 1, lingerMs: 0 });
    queue.add('alerts', messages('a1'));
    queue.add('alerts', messages('a2'));
    await sender.next(new Error('broker down'));
    await sender.next(new Error('broker down'));
    queue.add('alerts', messages('a3'));
    expect(flatten(await sender.next())).toEqual(['alerts:a1']);
    expect(flatten(await sender.next())).toEqual(['alerts:a2', 'alerts:a3']);
    await queue.flushed();
    expect(sender.acknowledged).toEqual(['alerts:a1', 'alerts:a2', 'alerts:a3']);
  });

  it('once stopping, gives a failed request up and every later flush rejects, so no checkpoint claims it', async () => {
    const sender = new HeldSender();
    const queue = new PublishQueue(sender, createLogger('silent'), { maxBackoffMs: 1, lingerMs: 0 });
    queue.add('alerts', messages('a1'));
    queue.stopRetrying();
    await sender.next(new Error('broker gone'));
    await expect(queue.flushed()).rejects.toThrow('broker gone');
    queue.add('alerts', messages('a2'));
    await sender.next();
    await expect(queue.flushed()).rejects.toThrow('broker gone');
    expect(queue.backlog).toBe(0);
  });
});
