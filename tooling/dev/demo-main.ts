/**
 * The demo process that tooling/demo.ts (`npm run demo`) launches: starts librdkafka's mock Kafka
 * cluster, the service, the fleet simulator (which backfills two hours of history, so detectors are
 * warm at once, then produces in real time, injecting an incident every few minutes) and a stand-in CD
 * system that carries out approved rollbacks on the simulated fleet (tooling/dev/demo-stack.ts).
 * Prints the URL, then a one-line scorecard every few minutes (and on exit): each injected incident
 * alerted or missed.
 *
 * SIGINT/SIGTERM (Ctrl-C, forwarded by the launcher) stops the service, then the simulator, then the
 * broker, and removes the demo's temp folder; a second one exits at once (still removing the folder).
 */
import { startDemo } from './demo-stack.ts';
import { demoArgs } from './simulator-args.ts';

const { scorecardEveryMinutes, ...args } = demoArgs(process.argv.slice(2));
const print = (line: string): void => void process.stdout.write(`${line}\n`);
const demo = await startDemo({ ...args, print, scorecardEveryMs: scorecardEveryMinutes * 60_000 });

const dashboard = `http://localhost:${new URL(demo.service.url).port}`;
process.stdout.write(
  `\nchangewatch demo is running\n  dashboard: ${dashboard}\n  API:       ${dashboard}/api/v1/alerts\n  Kafka:     ${demo.kafka.brokers} (librdkafka mock cluster)\n` +
    `  backfilled ${demo.simulator.backfilled} events (${args.historyMinutes} min of history); an incident about every ${args.incidentEveryMinutes} min from now on\n` +
    `  in about 3 min an AI agent's deploy breaks checkout: watch the alert name it, the rollback proposal and the AI-change freeze appear;\n` +
    `  sign in with the admin token printed above to approve; the stand-in CD system below verifies the signed request and rolls\n` +
    `  checkout back, and the alert resolves about a minute after the error rate recovers\n` +
    (scorecardEveryMinutes > 0 ? `  every ${scorecardEveryMinutes} min a scorecard line says which injected incidents were alerted, named right, missed or pending\n` : '') +
    `  Ctrl-C to stop\n\n`,
);

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // A second Ctrl-C: no more waiting. The broker dies with this process (tooling/dev/mock-kafka.ts).
      demo.removeTempDir();
      process.exit(130);
    }
    interrupted = true;
    print('\nstopping (Ctrl-C again to exit at once)');
    demo.stop().then(
      () => {
        print(`stopped; removed ${demo.tempDir}`);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`demo: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
