/** A real HTTP receiver on 127.0.0.1 for notifier and delivery tests, with a swappable behaviour. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Decides how to answer a request; may delay or never answer. */
export type ReceiverBehaviour = (request: ReceivedRequest, response: ServerResponse) => void;

/** Answers every request with 202 and a JSON body, like PagerDuty. */
export const accept: ReceiverBehaviour = (_request, response) => {
  response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success"}');
};

/** A running receiver. */
export interface Receiver {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in arrival order (including those answered with errors). */
  requests: ReceivedRequest[];
  /** Changes how later requests are answered. */
  behave(behaviour: ReceiverBehaviour): void;
  close(): Promise<void>;
}

/** Starts a receiver on a free port. */
export async function startReceiver(behaviour: ReceiverBehaviour = accept, port = 0): Promise<Receiver> {
  let current = behaviour;
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      current(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    behave(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
