/** A real local HTTP receiver for the rollback webhook: records requests and answers with a scripted status. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A running receiver. */
export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Statuses to answer with, in order; 200 once exhausted. */
  script: Array<{ status: number; headers?: Record<string, string> }>;
  close(): Promise<void>;
}

/** Starts a receiver on an ephemeral 127.0.0.1 port. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const script: Receiver['script'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = script.shift() ?? { status: 200 };
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.status < 300 ? '{"ok":true}' : 'unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/rollback`,
    requests,
    script,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
