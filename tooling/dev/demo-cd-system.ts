/**
 * A stand-in CD system for `npm run demo`: receives changewatch's signed rollback requests,
 * verifies their Standard Webhooks signature and prints what a real CD system would now do. It
 * does not roll anything back (the simulated fleet recovers on its own schedule).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RollbackWebhookBody } from '../../server/actions/rollback-webhook.ts';
import { generateWebhookSecret, verifyWebhook } from '../../server/alerts/notifiers/standard-webhooks.ts';

/** A running demo CD endpoint. */
export interface DemoCdSystem {
  /** Where changewatch sends rollback requests. */
  url: string;
  /** The `whsec_` secret both sides share. */
  secret: string;
  /** Requests received and verified, oldest first. */
  received: RollbackWebhookBody[];
  stop(): Promise<void>;
}

/** Starts the endpoint on an ephemeral 127.0.0.1 port; `print` gets one line per request. */
export async function startDemoCdSystem(print: (line: string) => void): Promise<DemoCdSystem> {
  const secret = generateWebhookSecret();
  const received: RollbackWebhookBody[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        verifyWebhook(secret, req.headers, body);
      } catch (err) {
        print(`demo CD system: refused a request with a bad signature (${(err as Error).message})`);
        res.writeHead(401).end();
        return;
      }
      const request = JSON.parse(body) as RollbackWebhookBody;
      received.push(request);
      print(
        `demo CD system: rolling back ${request.service} ${request.fromVersion} → ${request.toVersion} (change ${request.changeId}, approved by ${request.approvedBy}); a real CD system would deploy now`,
      );
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/rollback`,
    secret,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

