/**
 * receiver down: the receiver of every notification (PagerDuty and a signed webhook, both local)
 * refuses connections for 2 minutes while incidents open and resolve, then comes back on the same
 * address. The delivery worker keeps retrying with capped exponential backoff and full jitter behind
 * a circuit breaker (5 failures open it for 30 s), so delivery resumes within one backoff ceiling of
 * the return, not at once: the scenario waits up to 5.5 minutes for it.
 *
 * Invariants: nothing is lost — every incident's trigger and resolve reach both endpoints after the
 * return — and nothing is doubled: one `webhook-id` per notification, one PagerDuty trigger and one
 * resolve per `dedup_key`, in order (no trigger after the resolve); one incident per anomalous
 * service; the service never exits on its own.
 */
import { ChaosService, caughtUp, checkPages, connectProducer, errorFigures, freshDataDir, HookReceiver, incidentFeed, receiverNotify, runId, runIncidents, runTopics, sendRecords, serviceConfig, sleep, topicEnds, topicEnvironment, waitFor, type FeedRecord } from './support.ts';
import { Invariants, scaledCount, scaledMs, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenario.ts';

/** Wall-clock wait before an incident's first page (incidents.groupWaitMs of the service under test). */
const GROUP_WAIT_MS = 500;
/** Longest wait for every notification once the receiver is back: the 5-minute backoff ceiling plus a poll. */
const MAX_REDELIVERY_WAIT_MS = 330_000;

/** The receiver-down scenario. */
export const receiverDownScenario: Scenario = { name: 'receiver-down', run: runReceiverDown };

async function runReceiverDown(context: ScenarioContext): Promise<ScenarioOutcome> {
  const id = runId('receiver');
  const topics = runTopics(id);
  const downMs = scaledMs(120_000, context.scale, 5_000);
  const start = Date.now() - 6 * 3_600_000;
  // Every anomalous service steps at the same step (200), each after a deploy of its own.
  const feed = incidentFeed({ prefix: id, anomalous: scaledCount(3, context.scale, 1), quiet: 2, gapSteps: 0, recoverySteps: 40, start });
  const stepOf = (record: FeedRecord): number => ((record.kind === 'metric' ? record.point.timestamp : record.change.timestamp) - start) / 10_000;
  const baseline = feed.records.filter((r) => stepOf(r) < 198);
  const anomaly = feed.records.filter((r) => stepOf(r) >= 198 && stepOf(r) < 215);
  const recovery = feed.records.filter((r) => stepOf(r) >= 215);
  const invariants = new Invariants();
  const receiver = await HookReceiver.start();
  const dataDir = await freshDataDir('receiver');
  const { notify, env: notifyEnv } = receiverNotify(id);
  const env = {
    ...topicEnvironment(topics, context.brokers),
    ...notifyEnv(receiver.url),
    CHANGEWATCH_DATA_DIR: dataDir,
    CHANGEWATCH_CONFIG: serviceConfig(dataDir, { incidents: { groupWaitMs: GROUP_WAIT_MS, flapWindowMs: 0, repeatIntervalMs: 3_600_000 }, notify }),
  };
  let service: ChaosService | undefined;
  const producer = await connectProducer(context.brokers);
  try {
    service = await ChaosService.start(env);
    invariants.check((await service.untilReady(60_000)) >= 0, 'the service never became ready');
    const absorbed = async (): Promise<boolean> => {
      const ends = await topicEnds(context.brokers, [topics.telemetry, topics.changes]);
      return waitFor(async () => caughtUp((await service!.status())?.consumedOffsets ?? {}, ends), 60_000, 250);
    };
    await sendRecords(producer, topics, baseline);
    invariants.check(await absorbed(), 'the baseline was not absorbed within 60 s');

    await receiver.goDown();
    const downAt = Date.now();
    context.log(`receiver-down: receiver down for ${Math.round(downMs / 1000)} s; ${feed.anomalous.length} incidents open and resolve meanwhile`);
    await sendRecords(producer, topics, anomaly);
    const opened = await waitFor(async () => {
      const incidents = (await runIncidents(service!, id)) ?? [];
      return feed.anomalous.every((hot) => incidents.some((incident) => incident.service === hot));
    }, 60_000, 250);
    invariants.check(opened, 'not every anomalous service had an incident within 60 s');
    // The triggers are due (and failing) before the incidents resolve, so both notifications queue up.
    await sleep(GROUP_WAIT_MS + 2_000);
    await sendRecords(producer, topics, recovery);
    invariants.check(await absorbed(), 'the recovery was not absorbed within 60 s');
    const resolved = await waitFor(async () => ((await runIncidents(service!, id)) ?? []).every((incident) => incident.status === 'resolved'), 60_000, 250);
    invariants.check(resolved, 'the incidents did not resolve within 60 s of the recovery');
    const openedAndResolvedMs = Date.now() - downAt;
    await sleep(downAt + downMs - Date.now());
    invariants.check(receiver.requests.length === 0, `${receiver.requests.length} request(s) reached a receiver that was down`);

    await receiver.comeBack();
    const upAt = Date.now();
    const incidents = (await runIncidents(service, id)) ?? [];
    const complete = (): boolean => checkPages(receiver, incidents).failures.length === 0;
    const delivered = await waitFor(complete, Math.min(MAX_REDELIVERY_WAIT_MS, 60_000 + downMs * 2), 250);
    const lastDeliveryMs = receiver.requests.length ? Math.max(...receiver.requests.map((r) => r.at)) - upAt : -1;
    const firstDeliveryMs = receiver.requests.length ? Math.min(...receiver.requests.map((r) => r.at)) - upAt : -1;
    invariants.check(delivered, `not every notification arrived within ${Math.round(Math.min(MAX_REDELIVERY_WAIT_MS, 60_000 + downMs * 2) / 1000)} s of the receiver's return`);
    // Time for a duplicate to show up.
    await sleep(3_000);

    const pages = checkPages(receiver, incidents);
    for (const failure of pages.failures) invariants.check(false, failure);
    for (const hot of feed.anomalous) {
      const of = incidents.filter((incident) => incident.service === hot).length;
      invariants.check(of === 1, `service ${hot}: ${of} incidents, expected 1`);
    }
    invariants.check(service.crashed === undefined, `the service died: ${service.crashed}`);
    return {
      figures: {
        downMs: upAt - downAt,
        openedAndResolvedWhileDownMs: openedAndResolvedMs,
        firstDeliveryAfterReturnMs: firstDeliveryMs,
        lastDeliveryAfterReturnMs: lastDeliveryMs,
        ...pages.figures,
        ...errorFigures([service]),
      },
      failures: invariants.failures,
    };
  } finally {
    await Promise.allSettled([service?.kill(), producer.disconnect(), receiver.close()]);
  }
}
