import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, isWebhookSecret, signWebhook, verifyWebhook } from '../../../../server/alerts/notifiers/standard-webhooks.ts';
import { isChangewatchError } from '../../../../server/errors.ts';

// The test vector published with the Standard Webhooks reference libraries.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

const signatureError = (error: unknown) => isChangewatchError(error, 'CW_WEBHOOK_SIGNATURE');

describe('Standard Webhooks', () => {
  it('matches the reference test vector', () => {
    expect(signWebhook(SECRET, ID, TIMESTAMP, BODY)).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': String(TIMESTAMP),
      'webhook-signature': SIGNATURE,
    });
  });

  it('verifies, accepting any of several signatures (secret rotation) and any header case', () => {
    const headers = { 'Webhook-Id': ID, 'Webhook-Timestamp': String(TIMESTAMP), 'Webhook-Signature': `v1,bm90IGl0 ${SIGNATURE}` };
    expect(() => verifyWebhook(SECRET, headers, BODY, { nowSeconds: TIMESTAMP + 10 })).not.toThrow();
  });

  it('rejects a wrong secret, a tampered body or id, a stale timestamp and missing headers', () => {
    const headers = signWebhook(SECRET, ID, TIMESTAMP, BODY);
    const at = { nowSeconds: TIMESTAMP };
    const other = generateWebhookSecret();
    expect(() => verifyWebhook(other, headers, BODY, at)).toThrow(expect.toSatisfy(signatureError));
    expect(() => verifyWebhook(SECRET, headers, `${BODY} `, at)).toThrow(/no webhook-signature matches/);
    expect(() => verifyWebhook(SECRET, { ...headers, 'webhook-id': 'msg_other' }, BODY, at)).toThrow(/no webhook-signature matches/);
    expect(() => verifyWebhook(SECRET, headers, BODY, { nowSeconds: TIMESTAMP + 301 })).toThrow(/tolerance/);
    expect(() => verifyWebhook(SECRET, headers, BODY, { nowSeconds: TIMESTAMP - 301 })).toThrow(/tolerance/);
    expect(() => verifyWebhook(SECRET, { 'webhook-id': ID }, BODY, at)).toThrow(/missing/);
    expect(() => verifyWebhook(SECRET, { ...headers, 'webhook-timestamp': '12abc' }, BODY, at)).toThrow(/unix seconds/);
  });

  it('validates and generates whsec_ secrets without echoing them', () => {
    expect(isWebhookSecret(SECRET)).toBe(true);
    expect(isWebhookSecret(generateWebhookSecret())).toBe(true);
    expect(isWebhookSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
    expect(isWebhookSecret('whsec_')).toBe(false);
    expect(isWebhookSecret('whsec_not base64!')).toBe(false);
    let message = '';
    try {
      signWebhook('plainSECRETvalue', ID, TIMESTAMP, BODY);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/whsec_/);
    expect(message).not.toContain('plainSECRETvalue');
  });
});
