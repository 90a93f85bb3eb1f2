import { afterEach, describe, expect, it } from 'vitest';
import { post } from '../../../../server/alerts/notifiers/http.ts';
import { Redactor } from '../../../../server/alerts/notifiers/redact.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const receivers: Receiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

describe('outbound POST (notifiers and the rollback webhook)', () => {
  it('does not follow a redirect: the attempt fails (retryable) and the redirect target is never called', async () => {
    const internal = await startReceiver();
    receivers.push(internal);
    const redirecting = await startReceiver((_request, response) => {
      response.writeHead(307, { location: `${internal.url}/admin` }).end();
    });
    receivers.push(redirecting);

    const outcome = await post({ url: `${redirecting.url}/hook`, body: '{}', headers: {}, timeoutMs: 2_000, redactor: new Redactor([]) });
    expect(outcome).toMatchObject({ ok: false, retryable: true, reason: expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:\d+/) });
    expect(redirecting.requests).toHaveLength(1);
    expect(internal.requests).toEqual([]);
  });
});
