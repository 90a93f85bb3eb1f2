/**
 * broker gone: the broker is unreachable from changewatch for 30 s. The mock broker keeps its data
 * in memory, so it is not stopped: a Kafka-aware TCP proxy (tooling/dev/kafka-proxy.ts) sits
 * between the service and the broker and is cut — every connection closed, new ones refused — then
 * restored on the same port. Telemetry keeps arriving on the broker meanwhile (the scenario's own
 * producer reaches it directly): one anomaly is fed live before the cut, one whole (onset to
 * resolve) during it, one live after the link is back; POST /api/v1/events is called while it is cut.
 *
 * Invariants: `/readyz` answers 200 before, 503 before the link is back and, from its first 503,
 * nothing but 503 until the restore, then 200 again within `READY_AGAIN_LIMIT_MS`; the HTTP server
 * answers throughout; the process never exits; afterwards every message is absorbed exactly once
 * (eventsProcessed matches what was produced), every alert id of a clean replay reaches the alerts
 * topic and no other; HTTP records answered 202 are processed, refused ones get 503
 * CW_KAFKA_UNAVAILABLE; every incident — the one that arrived whole in the backlog too — is paged
 * once and resolved once, none twice; `/readyz` turns 503 within `READY_DROP_LIMIT_MS` of the cut.
 */
import { startKafkaProxy } from '../../tooling/dev/kafka-proxy.ts';
import { AlertsTap, AS_OPERATOR, ChaosService, caughtUp, checkPages, connectProducer, errorFigures, feedOverTime, freshDataDir, HookReceiver, incidentFeed, receiverNotify, runId, runIncidents, runTopics, sendRecords, serviceConfig, sleep, topicEnds, topicEnvironment, waitFor, type FeedRecord } from './support.ts';
import { Invariants, scaledMs, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenario.ts';

/**
 * How soon `/readyz` should answer 503 once the broker is unreachable: the fetch thread reports
 * lost touch after 2 s without any broker answer (the default `maxWaitTimeMs` and heartbeat, plus a
 * second: server/ingest/fetch-worker.ts), checks every 250 ms, and this scenario polls `/readyz`
 * every few hundred ms; a load balancer should stop sending within a few seconds, not kafkajs's ~15.
 */
const READY_DROP_LIMIT_MS = 3_000;
/** The shortest cut: longer than kafkajs gives the consumer (0.5–15 s after a cut in the runs so far; 7–17 s for bare consumers), so the 503 shows. */
const SHORTEST_CUT_MS = 20_000;
/** Longest time `/readyz` may take to answer 200 again once the broker is back. */
const READY_AGAIN_LIMIT_MS = 60_000;
/** Records per POST /api/v1/events sent while the broker is cut. */
const HTTP_RECORDS = 20;

/** The broker-gone scenario. */
export const brokerGoneScenario: Scenario = { name: 'broker-gone', run: runBrokerGone };

async function runBrokerGone(context: ScenarioContext): Promise<ScenarioOutcome> {
  const id = runId('broker');
  const topics = runTopics(id);
  const cutMs = scaledMs(30_000, context.scale, SHORTEST_CUT_MS);
  const start = Date.now() - 6 * 3_600_000;
  // Three anomalies 40 steps apart: the first before the cut, the second fed during it, the third after.
  // Three anomalies 60 steps apart: the first fed live before the cut, the second whole (onset to
  // resolve) while it is cut, the third live after the link is back.
  const feed = incidentFeed({ prefix: id, anomalous: 3, quiet: 3, gapSteps: 60, recoverySteps: 40, start });
  const stepOf = (record: FeedRecord): number => ((record.kind === 'metric' ? record.point.timestamp : record.change.timestamp) - start) / 10_000;
  const history = feed.records.filter((r) => stepOf(r) < 198);
  const before = feed.records.filter((r) => stepOf(r) >= 198 && stepOf(r) < 250);
  const during = feed.records.filter((r) => stepOf(r) >= 250 && stepOf(r) < 310);
  const after = feed.records.filter((r) => stepOf(r) >= 310);
  // Live parts at 5 steps a second, 15 in the small runs: an incident lives 9 s (3 s) of wall time,
  // more than groupWaitMs plus the router's 1 s tick.
  const small = context.scale < 0.5;
  const liveMs = (steps: number): number => (steps * 1_000) / (small ? 15 : 5);
  const invariants = new Invariants();
  const proxy = await startKafkaProxy(context.brokers);
  const receiver = await HookReceiver.start();
  const dataDir = await freshDataDir('broker');
  const { notify, env: notifyEnv } = receiverNotify(id);
  const env = {
    ...topicEnvironment(topics, proxy.address),
    ...notifyEnv(receiver.url),
    CHANGEWATCH_DATA_DIR: dataDir,
    CHANGEWATCH_CONFIG: serviceConfig(dataDir, { incidents: { groupWaitMs: 1_000, flapWindowMs: 0, repeatIntervalMs: 3_600_000 }, notify }),
  };
  let service: ChaosService | undefined;
  const alerts = await AlertsTap.start(context.brokers, topics.alerts);
  const producer = await connectProducer(context.brokers);
  const timeline: Array<{ at: number; status: number }> = [];
  let polling = true;
  try {
    service = await ChaosService.start(env);
    invariants.check((await service.untilReady(60_000)) >= 0, 'the service never became ready');
    await sendRecords(producer, topics, history);
    await feedOverTime(producer, topics, before, liveMs(52));
    const beforeEnds = await topicEnds(context.brokers, [topics.telemetry, topics.changes]);
    invariants.check(await waitFor(async () => caughtUp((await service!.status())?.consumedOffsets ?? {}, beforeEnds), 60_000, 250), 'the records before the cut were not absorbed within 60 s');

    const poller = (async () => {
      while (polling) {
        timeline.push({ at: Date.now(), status: await service!.readyz() });
        await sleep(250);
      }
    })();
    await sleep(small ? 500 : 2_000);
    await proxy.cut();
    const cutAt = Date.now();
    context.log(`broker-gone: link to the broker cut for ${Math.round(cutMs / 1000)} s`);
    await sendRecords(producer, topics, during);
    // Ingest over HTTP while the broker is unreachable: refused (503) or, if accepted, never lost.
    const httpDuringCut = [post(service.url, id, 0, start), sleep(cutMs / 2).then(() => post(service!.url, id, 1, start))];
    await sleep(cutAt + cutMs - Date.now());
    await proxy.restore();
    const restoredAt = Date.now();
    const answers = await Promise.all(httpDuringCut);
    await waitFor(async () => (await service!.readyz()) === 200, READY_AGAIN_LIMIT_MS, 250);
    answers.push(await post(service.url, id, 2, start));
    await feedOverTime(producer, topics, after, liveMs(65));

    const ends = await topicEnds(context.brokers, [topics.telemetry, topics.changes]);
    const drained = await waitFor(async () => caughtUp((await service!.status())?.consumedOffsets ?? {}, ends), 90_000, 250);
    invariants.check(drained, 'not every message was absorbed within 90 s of the link coming back');
    await waitFor(() => alerts.missing(feed.expectedAlertIds).length === 0, 30_000, 250);
    const paged = async (): Promise<boolean> => {
      const incidents = await runIncidents(service!, id);
      return incidents !== undefined && incidents.length >= feed.anomalous.length && incidents.every((i) => i.status === 'resolved') && checkPages(receiver, incidents).failures.length === 0;
    };
    await waitFor(paged, 30_000, 500);
    // Time for a duplicate page to show up.
    await sleep(small ? 1_000 : 3_000);
    polling = false;
    await poller;

    // Readiness: 200 before, 503 soon after the cut and until the restore, 200 again after.
    const cutSamples = timeline.filter((s) => s.at > cutAt && s.at < restoredAt);
    const firstDown = cutSamples.find((s) => s.status === 503);
    const dropMs = firstDown ? firstDown.at - cutAt : -1;
    const flaps = firstDown ? cutSamples.filter((s) => s.at > firstDown.at && s.status !== 503).length : 0;
    const firstUp = timeline.find((s) => s.at >= restoredAt && s.status === 200);
    const readyAgainMs = firstUp ? firstUp.at - restoredAt : -1;
    invariants.check(timeline.filter((s) => s.at < cutAt).every((s) => s.status === 200), '/readyz was not 200 before the cut');
    invariants.check(firstDown !== undefined, '/readyz never answered 503 while the broker was unreachable');
    invariants.check(firstDown !== undefined && dropMs <= READY_DROP_LIMIT_MS, `readiness lag: /readyz answered 200 for ${dropMs} ms after the broker became unreachable (expected 503 within ${READY_DROP_LIMIT_MS} ms)`);
    invariants.check(flaps === 0, `/readyz answered other than 503 ${flaps} time(s) while the broker was still unreachable`);
    invariants.check(firstUp !== undefined && readyAgainMs <= READY_AGAIN_LIMIT_MS, `/readyz was not 200 within ${READY_AGAIN_LIMIT_MS} ms of the link coming back`);
    invariants.check(timeline.every((s) => s.status !== 0), `the HTTP server did not answer /readyz ${timeline.filter((s) => s.status === 0).length} time(s)`);

    // No loss: every record absorbed once, every alert of the reference replay out.
    const accepted = answers.filter((a) => a.status === 202).length * HTTP_RECORDS;
    const ambiguous = answers.filter((a) => a.status === 503 && /some may have been produced/.test(a.message)).length * HTTP_RECORDS;
    for (const answer of answers) invariants.check(answer.status === 202 || (answer.status === 503 && answer.code === 'CW_KAFKA_UNAVAILABLE'), `POST /api/v1/events answered ${answer.status} ${answer.code}: expected 202, or 503 CW_KAFKA_UNAVAILABLE while the broker is gone`);
    const httpEnds = await topicEnds(context.brokers, [topics.telemetry, topics.changes]);
    await waitFor(async () => caughtUp((await service!.status())?.consumedOffsets ?? {}, httpEnds), 30_000, 250);
    const processed = (await service.status())?.stats.eventsProcessed ?? -1;
    const fed = feed.records.length;
    invariants.check(processed >= fed + accepted && processed <= fed + accepted + ambiguous, `eventsProcessed is ${processed}; ${fed} records were produced and ${accepted} accepted over HTTP (${ambiguous} more maybe)`);
    const lost = alerts.missing(feed.expectedAlertIds);
    const unexpected = [...alerts.statuses.keys()].filter((alertId) => !feed.expectedAlertIds.has(alertId));
    invariants.check(lost.length === 0, `${lost.length} alert(s) of the reference replay never reached the alerts topic: ${lost.slice(0, 5).join(', ')}`);
    invariants.check(unexpected.length === 0, `${unexpected.length} alert id(s) the reference replay does not emit: ${unexpected.slice(0, 5).join(', ')}`);
    // Pages: none doubled; every incident paged once and resolved once, the one whose whole life was
    // fed during the cut (it reaches the service in one burst) too, by a late trigger.
    const incidents = (await runIncidents(service, id)) ?? [];
    for (const hot of feed.anomalous) {
      const of = incidents.filter((incident) => incident.service === hot).length;
      invariants.check(of === 1, `service ${hot}: ${of} incidents, expected 1`);
    }
    const pages = checkPages(receiver, incidents);
    for (const failure of pages.failures) invariants.check(false, failure);
    const livePaged = [feed.anomalous[0]!, feed.anomalous[2]!].every((hot) => receiver.webhooks().some((hook) => incidents.find((i) => i.id === hook.incidentId)?.service === hot && hook.type === 'incident.triggered'));
    invariants.check(livePaged, 'an incident fed live (before or after the cut) was not paged');
    invariants.check(service.crashed === undefined, `the service died: ${service.crashed}`);
    return {
      figures: {
        cutMs: restoredAt - cutAt,
        readyzDropMs: dropMs,
        readyzAgainMs: readyAgainMs,
        readyzSamples: timeline.length,
        readyzOkWhileCut: cutSamples.filter((s) => s.status === 200).length,
        proxyConnections: proxy.accepted,
        httpAnswers: answers.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''} in ${a.ms} ms`),
        records: fed,
        eventsProcessed: processed,
        expectedAlerts: feed.expectedAlertIds.size,
        alertsOnTopic: alerts.statuses.size,
        lostAlerts: lost.length,
        ...pages.figures,
        ...errorFigures([service]),
      },
      failures: invariants.failures,
    };
  } finally {
    polling = false;
    await Promise.allSettled([service?.kill(), alerts.stop(), producer.disconnect(), proxy.stop(), receiver.close()]);
  }
}

/** Posts `HTTP_RECORDS` points of a series of their own (batch `batch`); the status and the error, if any. */
async function post(url: string, id: string, batch: number, start: number): Promise<{ status: number; code: string; message: string; ms: number }> {
  const events = Array.from({ length: HTTP_RECORDS }, (_, i) => ({ metric: { service: `${id}-http`, metric: 'latency_p99', value: 100, timestamp: start + (batch * HTTP_RECORDS + i) * 10_000 } }));
  const sentAt = Date.now();
  try {
    const response = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: AS_OPERATOR, body: JSON.stringify({ events }), signal: AbortSignal.timeout(60_000) });
    const body = (await response.json()) as { error?: { code: string; message: string } };
    return { status: response.status, code: body.error?.code ?? '', message: body.error?.message ?? '', ms: Date.now() - sentAt };
  } catch (error) {
    return { status: 0, code: 'no answer', message: (error as Error).message, ms: Date.now() - sentAt };
  }
}
