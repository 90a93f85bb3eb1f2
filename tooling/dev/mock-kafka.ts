/**
 * Starts librdkafka's mock Kafka cluster (from Debian's `kcat`) for development, demos and tests.
 *
 * It is a real Kafka-protocol server, not a mocked client. Its quirks, which callers must respect:
 * it has no CreateTopics (topics auto-create with 4 partitions on first use), keeps only ~5 MB per
 * partition, and a fetch waits its full `maxWaitTimeInMs` even when data is there, so consumers that
 * care about latency keep that at 100 ms or less.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** A running mock cluster. */
export interface MockKafka {
  /** `host:port` of the bootstrap broker. */
  brokers: string;
  stop(): Promise<void>;
}

/** Options of the mock cluster. */
export interface MockKafkaOptions {
  /** How long to wait for kcat to serve (default 10 s). */
  timeoutMs?: number;
  /**
   * Runs kcat in a process group of its own, so a terminal's Ctrl-C (sent to the whole foreground
   * group) does not kill the broker under clients still connected to it: the caller stops it last,
   * with `stop`. It is still killed when this process exits.
   */
  ownProcessGroup?: boolean;
}

/** Spawns `kcat` in mock-cluster mode and resolves once it prints its bootstrap address. */
export async function startMockKafka(options: MockKafkaOptions = {}): Promise<MockKafka> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let child: ChildProcess;
  try {
    child = spawn('kcat', ['-b', '127.0.0.1:1', '-C', '-t', 'keepalive', '-X', 'test.mock.num.brokers=1', '-d', 'mock', '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: options.ownProcessGroup === true,
    });
  } catch (err) {
    throw new Error(`cannot start kcat (install it with "apt-get install -y kcat"): ${String(err)}`);
  }
  const brokers = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat printed no bootstrap.servers within ${timeoutMs} ms; stderr so far: ${seen.slice(-500)}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start kcat (install it with "apt-get install -y kcat"): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited with code ${code} before serving; stderr: ${seen.slice(-500)}`));
    });
    const onData = (chunk: Buffer): void => {
      if (seen.length < 64_000) seen += chunk.toString();
      const match = /bootstrap\.servers=(\S+)/.exec(seen);
      if (!match) return;
      // kcat keeps logging (-d mock) for its whole life: stop looking once the address is known.
      child.stderr!.off('data', onData);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(match[1]!);
    };
    child.stderr!.on('data', onData);
  });
  // Keep draining stderr so kcat never blocks on a full pipe.
  child.stderr!.resume();
  if (options.ownProcessGroup) {
    // Out of the terminal's reach, so nothing else would stop it if this process ends without `stop`.
    const killOnExit = (): void => void child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
  }
  return {
    brokers,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        // A kcat that does not exit on SIGTERM must not hang shutdown.
        const force = setTimeout(() => child.kill('SIGKILL'), 1_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
