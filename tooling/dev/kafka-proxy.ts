/**
 * A cuttable TCP proxy in front of a single-broker Kafka cluster (the mock broker of
 * tooling/dev/mock-kafka.ts). A Kafka client only bootstraps through the address it is given: the
 * Metadata and FindCoordinator answers name the broker's own `host:port`, and the client connects
 * there next, past a plain proxy. So this proxy reads the Kafka framing (size-prefixed requests and
 * responses, matched by correlation id) and, in those two answers only, replaces the broker's port
 * by its own: every connection of the client then goes through the proxy, and cutting it makes the
 * broker unreachable for that client alone while others (producers of a test) still reach it.
 */
import { startTcpProxy, splitHostPort, type ConnectionTransforms, type TcpProxy } from './tcp-proxy.ts';

/** Kafka API keys whose responses carry broker addresses. */
const METADATA = 3;
const FIND_COORDINATOR = 10;

/** Starts a proxy forwarding to `brokers` (one `host:port`) that advertises itself in place of the broker. */
export async function startKafkaProxy(brokers: string): Promise<TcpProxy> {
  const [host, portText] = splitHostPort(brokers);
  const brokerPort = Number(portText);
  let proxyPort = 0;
  const proxy = await startTcpProxy({ target: brokers, transforms: () => advertiseProxy(host, brokerPort, () => proxyPort) });
  proxyPort = proxy.port;
  return proxy;
}

/**
 * The transforms of one connection: requests are parsed to learn which API each correlation id
 * asked, responses are re-framed and those of Metadata and FindCoordinator rewritten.
 */
function advertiseProxy(host: string, brokerPort: number, proxyPort: () => number): ConnectionTransforms {
  const apiKeyOf = new Map<number, number>();
  const hostBytes = Buffer.from(host, 'utf8');
  // The address as it is encoded in those answers: INT16 length, the host, INT32 port.
  const needle = Buffer.alloc(2 + hostBytes.length + 4);
  needle.writeInt16BE(hostBytes.length, 0);
  hostBytes.copy(needle, 2);
  needle.writeInt32BE(brokerPort, 2 + hostBytes.length);

  const requests = new FrameReader();
  const responses = new FrameReader();
  return {
    request(chunk) {
      for (const frame of requests.push(chunk)) {
        // Request header: INT16 api_key, INT16 api_version, INT32 correlation_id.
        if (frame.length >= 12) apiKeyOf.set(frame.readInt32BE(8), frame.readInt16BE(4));
      }
      return chunk;
    },
    response(chunk) {
      const frames = responses.push(chunk);
      for (const frame of frames) {
        if (frame.length < 8) continue;
        const correlationId = frame.readInt32BE(4);
        const apiKey = apiKeyOf.get(correlationId);
        apiKeyOf.delete(correlationId);
        if (apiKey !== METADATA && apiKey !== FIND_COORDINATOR) continue;
        for (let at = frame.indexOf(needle, 8); at >= 0; at = frame.indexOf(needle, at + needle.length)) {
          frame.writeInt32BE(proxyPort(), at + 2 + hostBytes.length);
        }
      }
      return Buffer.concat(frames);
    },
  };
}

/** Splits a byte stream into whole Kafka frames (INT32 size, then that many bytes), keeping the size prefix. */
class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns every frame completed by them (size prefix included), in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < 4 + size) break;
      // A copy: a frame may be rewritten, and the chunk it came in is not ours.
      frames.push(Buffer.from(this.pending.subarray(0, 4 + size)));
      this.pending = this.pending.subarray(4 + size);
    }
    return frames;
  }
}
