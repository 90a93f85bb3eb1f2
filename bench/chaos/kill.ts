/**
 * kill -9: changewatch runs as a child process on a persistent data dir (embedded PGlite, file
 * checkpoints) and pages a local receiver (PagerDuty and a signed webhook) while a live feed of
 * telemetry steps several services up, one after the other. Every 20 s for 2 minutes the process
 * is SIGKILLed and started again on the same data dir and consumer group.
 *
 * Invariants: every alert id a clean, uninterrupted replay of the same input emits reaches the alerts
 * topic (0 lost) and no other id does (0 duplicate alerts for one anomaly); every input message is
 * absorbed; each anomalous service has exactly one incident; each incident is triggered once per
 * endpoint (one `webhook-id`, one PagerDuty `dedup_key`; retries of the same key are counted, not
 * failures) and resolved once; the service never exits on its own.
 */
import { AlertsTap, ChaosService, caughtUp, checkPages, connectProducer, errorFigures, feedOverTime, freshDataDir, HookReceiver, incidentFeed, receiverNotify, runId, runIncidents, runTopics, sendRecords, serviceConfig, sleep, topicEnds, topicEnvironment, waitFor } from './support.ts';
import { Invariants, scaledCount, scaledMs, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenario.ts';

/** Wall time between two kills at full scale. */
const KILL_EVERY_MS = 20_000;
/** Least time a restarted process runs before the next kill, so each kill lands on a working service. */
const LEAST_UPTIME_MS = 3_000;

/** The kill -9 scenario. */
export const killScenario: Scenario = { name: 'kill', run: runKill };

async function runKill(context: ScenarioContext): Promise<ScenarioOutcome> {
  const id = runId('kill');
  const topics = runTopics(id);
  const durationMs = scaledMs(120_000, context.scale, 8_000);
  const kills = Math.max(1, Math.floor(durationMs / KILL_EVERY_MS));
  const killEveryMs = durationMs / kills;
  const start = Date.now() - 6 * 3_600_000;
  const feed = incidentFeed({ prefix: id, anomalous: scaledCount(4, context.scale, 2), quiet: scaledCount(16, context.scale, 4), gapSteps: Math.max(20, Math.round(60 * context.scale)), recoverySteps: 40, start });
  // The detectors' warm-up is history, sent at once; the rest arrives live, over the scenario's duration.
  const live = feed.records.findIndex((record) => record.kind === 'change');
  const history = feed.records.slice(0, live);
  const liveRecords = feed.records.slice(live);
  const invariants = new Invariants();
  const receiver = await HookReceiver.start();
  const dataDir = await freshDataDir('kill');
  const { notify, env: notifyEnv } = receiverNotify(id);
  const env = {
    ...topicEnvironment(topics, context.brokers),
    ...notifyEnv(receiver.url),
    CHANGEWATCH_DATA_DIR: dataDir,
    CHANGEWATCH_CONFIG: serviceConfig(dataDir, { incidents: { groupWaitMs: 1_000, flapWindowMs: 0, repeatIntervalMs: 3_600_000 }, notify }),
  };
  const processes: ChaosService[] = [];
  const alerts = await AlertsTap.start(context.brokers, topics.alerts);
  const producer = await connectProducer(context.brokers);
  try {
    const first = await ChaosService.start(env);
    processes.push(first);
    invariants.check((await first.untilReady(60_000)) >= 0, 'the first process never became ready');
    await sendRecords(producer, topics, history);
    const historyEnds = await topicEnds(context.brokers, [topics.telemetry]);
    invariants.check(await waitFor(async () => caughtUp((await first.status())?.consumedOffsets ?? {}, historyEnds), 60_000, 250), 'the first process did not absorb the history within 60 s');
    context.log(`kill: ${history.length} records of history, then ${liveRecords.length} live over ${Math.round(durationMs / 1000)} s, ${kills} SIGKILL(s) ${Math.round(killEveryMs / 1000)} s apart`);
    const started = Date.now();
    const feeding = feedOverTime(producer, topics, liveRecords, durationMs);
    const restartMs: number[] = [];
    let service = first;
    let upSince = Date.now();
    for (let kill = 1; kill <= kills; kill++) {
      await sleep(Math.max(started + kill * killEveryMs - Date.now(), upSince + LEAST_UPTIME_MS - Date.now(), 0));
      invariants.check(service.crashed === undefined, `process ${service.pid} died on its own before kill ${kill}: ${service.crashed}`);
      await service.kill();
      service = await ChaosService.start(env);
      processes.push(service);
      restartMs.push(service.startedInMs);
      upSince = Date.now();
      context.log(`kill: SIGKILL ${kill}/${kills} at ${Math.round((Date.now() - started) / 1000)} s; restarted in ${service.startedInMs} ms`);
    }
    await feeding;
    const fedAt = Date.now();

    // Drain: the last process absorbs everything, emits every alert, and pages and resolves every incident.
    const ends = await topicEnds(context.brokers, [topics.telemetry, topics.changes]);
    const absorbed = await waitFor(async () => caughtUp((await service.status())?.consumedOffsets ?? {}, ends), 180_000, 500);
    invariants.check(absorbed, 'the last process did not absorb every input message within 180 s');
    await waitFor(() => alerts.missing(feed.expectedAlertIds).length === 0, 60_000);
    const settled = async (): Promise<boolean> => {
      const incidents = await runIncidents(service, id);
      return incidents !== undefined && incidents.length > 0 && incidents.every((i) => i.status === 'resolved') && checkPages(receiver, incidents).failures.length === 0;
    };
    await waitFor(settled, 90_000, 500);
    const drainMs = Date.now() - fedAt;
    // Time for a late duplicate page to show up.
    await sleep(3_000);

    const lost = alerts.missing(feed.expectedAlertIds);
    const unexpected = [...alerts.statuses.keys()].filter((alertId) => !feed.expectedAlertIds.has(alertId));
    invariants.check(lost.length === 0, `${lost.length} alert(s) of the reference replay never reached the alerts topic: ${lost.slice(0, 5).join(', ')}`);
    invariants.check(unexpected.length === 0, `${unexpected.length} alert id(s) the reference replay does not emit (a second alert for one anomaly): ${unexpected.slice(0, 5).join(', ')}`);
    const incidents = (await runIncidents(service, id)) ?? [];
    for (const hot of feed.anomalous) {
      const of = incidents.filter((incident) => incident.service === hot).length;
      invariants.check(of === 1, `service ${hot}: ${of} incidents, expected 1`);
    }
    invariants.check(incidents.every((incident) => incident.status === 'resolved'), `incidents not resolved at the end: ${incidents.filter((i) => i.status !== 'resolved').map((i) => i.id).join(', ')}`);
    const pages = checkPages(receiver, incidents);
    for (const failure of pages.failures) invariants.check(false, failure);
    invariants.check(service.crashed === undefined, `the last process died on its own: ${service.crashed}`);
    return {
      figures: {
        durationMs,
        kills,
        killEveryMs: Math.round(killEveryMs),
        restartMsMax: Math.max(...restartMs),
        restartMsMean: Math.round(restartMs.reduce((a, b) => a + b, 0) / restartMs.length),
        records: feed.records.length,
        expectedAlerts: feed.expectedAlertIds.size,
        alertsOnTopic: alerts.statuses.size,
        alertMessages: alerts.messages,
        lostAlerts: lost.length,
        unexpectedAlerts: unexpected.length,
        drainMs,
        ...pages.figures,
        ...errorFigures(processes),
      },
      failures: invariants.failures,
    };
  } finally {
    await Promise.allSettled([...processes.map((p) => p.kill()), alerts.stop(), producer.disconnect(), receiver.close()]);
  }
}
