/**
 * A small TCP proxy (node:net) that can be cut: every connection closed and new ones refused until
 * it is restored on the same port. The chaos suite (bench/chaos/broker-gone.ts) puts one between
 * changewatch and the broker to make the broker unreachable without losing the mock broker's
 * in-memory data. An optional per-connection transform rewrites what the target sends back
 * (tooling/dev/kafka-proxy.ts uses it to advertise the proxy instead of the broker).
 */
import net from 'node:net';

/** Rewrites the bytes one upstream connection sends back to its client; called in order, chunk by chunk. */
export type ResponseTransform = (chunk: Buffer) => Buffer;

/** Builds the two per-connection transforms: client → target requests are seen, target → client responses rewritten. */
export interface ConnectionTransforms {
  /** Sees (and may rewrite) what the client sends. */
  request?: (chunk: Buffer) => Buffer;
  /** Rewrites what the target answers. */
  response?: ResponseTransform;
}

/** Options of `startTcpProxy`. */
export interface TcpProxyOptions {
  /** `host:port` to forward to. */
  target: string;
  /** Fresh transforms for each accepted connection (stateful parsers need one each). */
  transforms?: () => ConnectionTransforms;
}

/** A running proxy. */
export interface TcpProxy {
  /** `127.0.0.1:port` clients connect to; stays the same across cut and restore. */
  readonly address: string;
  readonly port: number;
  /** True while cut. */
  readonly isCut: boolean;
  /** Connections accepted since start (a measure of client reconnect attempts). */
  readonly accepted: number;
  /** Closes every connection and stops listening, so connecting is refused; resolves once nothing listens. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Cuts and forgets the proxy. */
  stop(): Promise<void>;
}

/** Starts a proxy on an ephemeral port of 127.0.0.1 forwarding to `options.target`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const [targetHost, targetPortText] = splitHostPort(options.target);
  const targetPort = Number(targetPortText);
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let cut = false;

  const onConnection = (client: net.Socket): void => {
    accepted++;
    if (cut) {
      client.destroy();
      return;
    }
    const transforms = options.transforms?.() ?? {};
    const upstream = net.connect({ host: targetHost, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('data', (chunk: Buffer) => {
      const out = transforms.request ? transforms.request(chunk) : chunk;
      if (out.length > 0 && !upstream.write(out)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      const out = transforms.response ? transforms.response(chunk) : chunk;
      if (out.length > 0 && !client.write(out)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
  };

  let server = net.createServer(onConnection);
  await listen(server, 0);
  const port = (server.address() as net.AddressInfo).port;

  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  return {
    address: `127.0.0.1:${port}`,
    port,
    get isCut() {
      return cut;
    },
    get accepted() {
      return accepted;
    },
    async cut() {
      cut = true;
      await closeServer();
    },
    async restore() {
      if (!cut) return;
      server = net.createServer(onConnection);
      await listen(server, port);
      cut = false;
    },
    async stop() {
      cut = true;
      await closeServer();
    },
  };
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Splits `host:port` (the port after the last colon). */
export function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  if (at <= 0) throw new Error(`not host:port: ${address}`);
  return [address.slice(0, at), address.slice(at + 1)];
}
