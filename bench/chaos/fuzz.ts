/**
 * fuzz: hostile input on every way in — the changes, telemetry and services topics and
 * POST /api/v1/events — interleaved with valid items, against a changewatch child process whose
 * tracked series are exactly `pipeline.maxSeries` (so every new series is refused). The corpus is
 * bench/chaos/fuzz-corpus.ts; the full run sends 50,000 hostile inputs in rounds of 1,000, each
 * round absorbed before the one after the next is sent (the mock broker keeps ~5 MB per partition).
 *
 * Invariants: every hostile input is dead-lettered (topic `…deadletter`, header
 * `changewatch-error-code`) with its expected code, or refused with its expected status and code;
 * no valid item is dead-lettered and every one is processed (the service's counters match the
 * corpus exactly); the service does not crash and its RSS grows by at most `RSS_GROWTH_LIMIT_MB`.
 * With `--known-bugs`, each case that breaks the service today is then sent alone (a probe) and
 * must be answered as the corpus expects.
 */
import type { ChangeEvent, ServiceEntry, TelemetryPoint } from '../../contract/events.ts';
import { seededRandom, type RandomSource } from '../../server/alerts/delivery/backoff.ts';
import { CaseDrawer, identifyDeadLetter, knownBugCases, type CorpusState, type ExpectedDeadLetter, type HostileItem, type HostileMessage, type HostileRequest } from './fuzz-corpus.ts';
import type { Producer } from 'kafkajs';
import { AS_OPERATOR, ChaosService, caughtUp, connectProducer, errorFigures, freshDataDir, mb, runId, runTopics, serviceConfig, sleep, topicEnds, topicEnvironment, TopicTap, waitFor, type RunTopics, type ServiceStatus } from './support.ts';
import { Invariants, scaledCount, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenario.ts';

/** Series the service may track; the warm-up creates exactly this many. */
const MAX_SERIES = 40;
/** `kafka.maxMessageBytes` of the service under test (HTTP bodies may be 4× this). */
const MAX_MESSAGE_BYTES = 65_536;
/** Hostile inputs per round. */
const ROUND_SIZE = 1_000;
/** Hostile HTTP records per request (each request also carries as many valid ones). */
const RECORDS_PER_REQUEST = 100;
/** HTTP requests in flight at once. */
const HTTP_CONCURRENCY = 4;
/**
 * Most the service's RSS may grow from after the warm-up to after the last round. The process holds
 * bounded structures only (series ≤ maxSeries, the series dictionaries ≤ 100,000 ids, ≤ 100 changes
 * per service, recent alerts); what RSS gains is V8 and the allocator growing to their working size
 * (docs/reliability.md: the main thread's heap after a full GC grew 22 → 29 MB over 200,000 inputs
 * while RSS grew ~200 MB, most of it in the first 20,000).
 */
const RSS_GROWTH_LIMIT_MB = 200;
/** Mismatches listed in the failures, per kind (the figures count them all). */
const LISTED = 8;

/** The fuzz scenario. */
export const fuzzScenario: Scenario = { name: 'fuzz', run: runFuzz };

/** The valid neighbours and timestamps the corpus draws from. */
class FuzzState implements CorpusState {
  readonly warm: ReadonlyArray<{ service: string; metric: string }>;
  readonly lateTimestamp: number;
  readonly maxMessageBytes = MAX_MESSAGE_BYTES;
  /** Event time of the next valid point; 20 ms per point, so a round spans well under maxLatenessMs. */
  private clock: number;
  private turn = 0;
  private changes = 0;
  private services = 0;
  private ids = 0;

  constructor(
    private readonly prefix: string,
    readonly random: RandomSource,
    readonly warmStart: number,
  ) {
    const metrics = ['latency_p50', 'latency_p90', 'latency_p99', 'latency_max', 'latency_mean'];
    this.warm = Array.from({ length: MAX_SERIES }, (_, i) => ({ service: `${prefix}-w${i % 8}`, metric: metrics[Math.floor(i / 8)]! }));
    this.lateTimestamp = warmStart;
    this.clock = warmStart + 3_600_000;
  }

  /** The warm-up: 60 points a minute apart for every series, the last an hour after `warmStart`. */
  warmUp(): TelemetryPoint[] {
    return Array.from({ length: 60 }, (_, k) => this.warm.map(({ service, metric }) => ({ service, metric, value: 100 + (k % 7), timestamp: this.warmStart + k * 60_000 }))).flat();
  }

  validPoint(): TelemetryPoint {
    const { service, metric } = this.warm[this.turn++ % this.warm.length]!;
    this.clock += 20;
    return { service, metric, value: 100 + (this.turn % 7), timestamp: this.clock };
  }

  validChange(): ChangeEvent {
    const { service } = this.warm[this.changes % this.warm.length]!;
    return { id: `${this.prefix}-chg-${this.changes++}`, type: 'config', service, environment: 'prod', timestamp: this.clock, author: { type: 'human', name: 'fuzz' } };
  }

  validService(): ServiceEntry {
    return { name: `${this.prefix}-w${this.services++ % 8}`, dependsOn: [`${this.prefix}-w${this.services % 8}`] };
  }

  nextId(): number {
    return this.ids++;
  }
}

/** Counts the corpus implies, accumulated round by round. */
interface Expected {
  processed: number;
  deadLettered: number;
  /** Dead letter tag → code. */
  deadLetters: Map<string, ExpectedDeadLetter['code']>;
  hostile: number;
  valid: number;
  refusedRequests: number;
  byCase: Map<string, number>;
}

async function runFuzz(context: ScenarioContext): Promise<ScenarioOutcome> {
  const target = scaledCount(50_000, context.scale, 200);
  const id = runId('fuzz');
  const topics = runTopics(id);
  const invariants = new Invariants();
  const dataDir = await freshDataDir('fuzz');
  const env = {
    ...topicEnvironment(topics, context.brokers),
    CHANGEWATCH_DATA_DIR: dataDir,
    CHANGEWATCH_CONFIG: serviceConfig(dataDir, { kafka: { maxMessageBytes: MAX_MESSAGE_BYTES }, pipeline: { maxSeries: MAX_SERIES } }),
  };
  const seen = new Map<string, string[]>();
  const unexpected: string[] = [];
  let unexpectedCount = 0;
  const deadLetters = await TopicTap.start(context.brokers, topics.deadletter, (message) => {
    const headers = message.headers ?? {};
    const code = String(headers['changewatch-error-code'] ?? '');
    const index = headers['changewatch-item-index'];
    const tag = identifyDeadLetter(message.key, message.value, index === undefined ? undefined : String(index));
    if (tag === undefined) {
      unexpectedCount++;
      if (unexpected.length < LISTED) unexpected.push(`${code}: ${(message.value ?? Buffer.alloc(0)).toString('utf8').slice(0, 120)}`);
      return;
    }
    const codes = seen.get(tag);
    if (codes) codes.push(code);
    else seen.set(tag, [code]);
  });
  let service: ChaosService | undefined;
  const producer = await connectProducer(context.brokers);
  try {
    service = await ChaosService.start(env);
    invariants.check((await service.untilReady(60_000)) >= 0, 'the service never became ready');
    const state = new FuzzState(id, seededRandom(15), Date.now() - 20 * 3_600_000);
    const expected: Expected = { processed: 0, deadLettered: 0, deadLetters: new Map(), hostile: 0, valid: 0, refusedRequests: 0, byCase: new Map() };

    const warm = state.warmUp();
    await producer.send({ topic: topics.telemetry, messages: warm.map((p) => ({ key: p.service, value: JSON.stringify(p) })) });
    expected.processed += warm.length;
    invariants.check(await waitFor(async () => ((await service!.status())?.stats.eventsProcessed ?? 0) >= warm.length, 60_000), 'the warm-up was not processed within 60 s');
    invariants.check((await service.status())?.series === MAX_SERIES, `the warm-up should leave exactly ${MAX_SERIES} series`);
    const rssBefore = service.rssBytes();
    let rssPeak = rssBefore;
    let rssHalfway = rssBefore;
    context.log(`fuzz: ${target} hostile inputs in rounds of ${ROUND_SIZE}; RSS after warm-up ${mb(rssBefore)} MB`);

    const drawer = new CaseDrawer(state.random);
    const httpMismatches: string[] = [];
    let httpMismatchCount = 0;
    const mismatch = (line: string): void => {
      httpMismatchCount++;
      if (httpMismatches.length < LISTED) httpMismatches.push(line);
    };
    const started = Date.now();
    let throughPreviousRound = expected.processed + expected.deadLettered;
    for (let sent = 0; sent < target; sent += ROUND_SIZE) {
      const round = buildRound(Math.min(ROUND_SIZE, target - sent), drawer, state, expected);
      await Promise.all([sendKafka(producer, topics, round), sendHttp(service.url, round, mismatch)]);
      // One round in flight at most: the broker keeps only ~5 MB per partition.
      const absorbedBefore = throughPreviousRound;
      const absorbed = await waitFor(async () => absorbedCount(await service!.status()) >= absorbedBefore, 120_000, 100);
      if (!invariants.check(absorbed, `round ${sent / ROUND_SIZE}: the previous round was not absorbed within 120 s`)) break;
      throughPreviousRound = expected.processed + expected.deadLettered;
      const rss = service.rssBytes();
      rssPeak = Math.max(rssPeak, rss);
      if (sent < target / 2) rssHalfway = rss;
      if ((sent / ROUND_SIZE) % 10 === 9) context.log(`fuzz: ${sent + ROUND_SIZE} sent, RSS ${mb(service.rssBytes())} MB`);
    }
    const sentMs = Date.now() - started;

    const ends = await topicEnds(context.brokers, [topics.telemetry, topics.changes, topics.services]);
    const drained = await waitFor(async () => {
      const status = await service!.status();
      return status !== undefined && caughtUp(status.consumedOffsets, ends) && absorbedCount(status) >= expected.processed + expected.deadLettered;
    }, 120_000, 250);
    invariants.check(drained, 'the service did not absorb every input within 120 s of the last round');
    await waitFor(() => [...expected.deadLetters.keys()].every((tag) => seen.has(tag)), 60_000, 250);
    await sleep(2_000);
    const status = await service.status();
    const rssAfter = service.rssBytes();
    rssPeak = Math.max(rssPeak, rssAfter);

    // Every hostile input dead-lettered with its code, and nothing else dead-lettered.
    const missing: string[] = [];
    const wrongCode: string[] = [];
    let duplicates = 0;
    for (const [tag, code] of expected.deadLetters) {
      const codes = seen.get(tag);
      if (!codes) missing.push(`${tag} (${code})`);
      else if (codes.some((c) => c !== code)) wrongCode.push(`${tag}: expected ${code}, got ${codes.join(',')}`);
      if (codes && codes.length > 1) duplicates += codes.length - 1;
    }
    const strays = [...seen.keys()].filter((tag) => !expected.deadLetters.has(tag));
    invariants.check(missing.length === 0, `${missing.length} expected dead letter(s) missing: ${missing.slice(0, LISTED).join('; ')}`);
    invariants.check(wrongCode.length === 0, `${wrongCode.length} dead letter(s) with the wrong code: ${wrongCode.slice(0, LISTED).join('; ')}`);
    invariants.check(unexpectedCount === 0 && strays.length === 0, `${unexpectedCount + strays.length} dead letter(s) of no hostile input (a valid item refused?): ${[...unexpected, ...strays].slice(0, LISTED).join('; ')}`);
    invariants.check(httpMismatchCount === 0, `${httpMismatchCount} HTTP answer(s) not as expected: ${httpMismatches.join('; ')}`);
    // Every valid item processed: the counters match the corpus exactly.
    invariants.check(status?.stats.eventsProcessed === expected.processed, `eventsProcessed is ${status?.stats.eventsProcessed}, the corpus has ${expected.processed} (valid items plus the points the pipeline looked at and refused)`);
    invariants.check(status?.stats.deadLettered === expected.deadLettered, `deadLettered is ${status?.stats.deadLettered}, the corpus implies ${expected.deadLettered}`);
    invariants.check(status?.series === MAX_SERIES, `the service tracks ${status?.series} series, expected ${MAX_SERIES}: a hostile point started one`);
    invariants.check(service.crashed === undefined, `the service died: ${service.crashed}`);
    const growth = mb(rssAfter - rssBefore);
    invariants.check(growth <= RSS_GROWTH_LIMIT_MB, `RSS grew by ${growth} MB (limit ${RSS_GROWTH_LIMIT_MB} MB)`);
    const probes = context.knownBugs ? await probeKnownBugs(service, producer, topics, state, seen) : [];
    for (const probe of probes) invariants.check(probe.fixed, `known bug still present, ${probe.name}: got ${probe.got}; ${probe.bug}`);
    return {
      figures: {
        hostile: expected.hostile,
        valid: expected.valid,
        cases: expected.byCase.size,
        expectedDeadLetters: expected.deadLetters.size,
        deadLettersRead: deadLetters.count,
        duplicateDeadLetters: duplicates,
        missingDeadLetters: missing.length,
        wrongCodes: wrongCode.length,
        unexpectedDeadLetters: unexpectedCount + strays.length,
        refusedRequests: expected.refusedRequests,
        httpMismatches: httpMismatchCount,
        eventsProcessed: status?.stats.eventsProcessed,
        deadLettered: status?.stats.deadLettered,
        sendMs: sentMs,
        inputsPerSec: Math.round(((expected.hostile + expected.valid) / sentMs) * 1000),
        rssBeforeMb: mb(rssBefore),
        rssHalfwayMb: mb(rssHalfway),
        rssAfterMb: mb(rssAfter),
        rssPeakMb: mb(rssPeak),
        rssGrowthMb: growth,
        knownBugProbes: probes.map(({ name, fixed, got }) => ({ name, fixed, got })),
        ...errorFigures([service]),
      },
      failures: invariants.failures,
    };
  } finally {
    await Promise.allSettled([service?.kill(), deadLetters.stop(), producer.disconnect()]);
  }
}

/** One known-bug case sent alone after the corpus. */
interface Probe {
  name: string;
  /** Whether the service now answers it as the corpus expects. */
  fixed: boolean;
  got: string;
  bug: string;
}

/**
 * Sends each known-bug case alone: an HTTP request is checked against its expected answer; a Kafka
 * message is followed by a valid point on its partition, and is fixed once its dead letters carry
 * their codes and that point is processed (a stalled partition never processes it).
 */
async function probeKnownBugs(service: ChaosService, producer: Producer, topics: RunTopics, state: FuzzState, seen: ReadonlyMap<string, string[]>): Promise<Probe[]> {
  const probes: Probe[] = [];
  const topicOf = { telemetry: topics.telemetry, changes: topics.changes, services: topics.services } as const;
  for (const hostileCase of knownBugCases()) {
    const hostile = hostileCase.build(state.nextId(), state);
    const bug = hostileCase.knownBug!;
    if (hostile.channel === 'http-request') {
      const { status, body } = await post(service.url, hostile.headers, hostile.body);
      const answer = body as { error?: { code?: string }; rejected?: Array<{ error: { code: string } }> } | undefined;
      const code = answer?.error?.code ?? answer?.rejected?.[0]?.error.code;
      const fixed = status === hostile.status && code === (hostile.code === 'accepted' ? hostile.itemCode : hostile.code);
      probes.push({ name: hostileCase.name, fixed, got: `${status} ${code ?? ''}`.trim(), bug });
      continue;
    }
    if (hostile.channel === 'http-item') throw new Error(`probe of an HTTP record case (${hostileCase.name}) is not supported; make it a request case`);
    const before = (await service.status())?.stats.eventsProcessed ?? 0;
    const next = state.validPoint();
    await producer.send({ topic: topicOf[hostile.channel], messages: [{ key: hostile.key, value: hostile.value }, { key: hostile.key, value: JSON.stringify(next) }] });
    const processed = await waitFor(async () => ((await service.status())?.stats.eventsProcessed ?? 0) > before + hostile.validItems, 20_000, 250);
    await waitFor(() => hostile.deadLetters.every((d) => seen.has(d.tag)), 2_000, 100);
    const codes = hostile.deadLetters.map((d) => seen.get(d.tag)?.join(',') ?? 'no dead letter');
    const fixed = processed && hostile.deadLetters.every((d) => seen.get(d.tag)?.every((c) => c === d.code) === true);
    probes.push({ name: hostileCase.name, fixed, got: `${[...new Set(codes)].join('; ')}, the message after it ${processed ? 'processed' : 'not processed within 20 s'}`, bug });
  }
  return probes;
}

/** What the service has absorbed: records processed plus records dead-lettered. */
function absorbedCount(status: ServiceStatus | undefined): number {
  return status === undefined ? 0 : status.stats.eventsProcessed + status.stats.deadLettered;
}

/** One round: Kafka messages per topic, HTTP record batches, and whole HTTP requests. */
interface Round {
  messages: Record<HostileMessage['channel'], Array<{ key: string | null; value: string | Buffer | null }>>;
  /** Each request's records, and the code each must be refused with in the answer (undefined: accepted). */
  itemRequests: Array<Array<{ record: unknown; inline?: string }>>;
  requests: HostileRequest[];
}

/** Draws `size` hostile inputs, interleaves valid items and adds what they imply to `expected`. */
function buildRound(size: number, drawer: CaseDrawer, state: FuzzState, expected: Expected): Round {
  const round: Round = { messages: { telemetry: [], changes: [], services: [] }, itemRequests: [], requests: [] };
  let records: Array<{ record: unknown; inline?: string }> = [];
  const expectDeadLetters = (list: readonly ExpectedDeadLetter[]): void => {
    for (const { tag, code } of list) expected.deadLetters.set(tag, code);
    expected.deadLettered += list.length;
  };
  for (let i = 0; i < size; i++) {
    const hostileCase = drawer.draw();
    const hostile = hostileCase.build(state.nextId(), state);
    expected.hostile++;
    expected.byCase.set(hostileCase.name, (expected.byCase.get(hostileCase.name) ?? 0) + 1);
    if (hostile.channel === 'http-request') {
      round.requests.push(hostile);
      expectDeadLetters(hostile.deadLetters);
      if (hostile.code !== 'accepted') expected.refusedRequests++;
      continue;
    }
    if (hostile.channel === 'http-item') {
      const item: HostileItem = hostile;
      records.push({ record: item.item, ...(item.inline ? { inline: item.inline } : {}) });
      expectDeadLetters([item.deadLetter]);
      expected.processed += item.refusedByPipeline;
      // A valid neighbour in the same request: a point or a change.
      records.push({ record: i % 2 === 0 ? { metric: state.validPoint() } : { change: state.validChange() } });
      expected.processed++;
      expected.valid++;
      if (records.length >= 2 * RECORDS_PER_REQUEST) {
        round.itemRequests.push(records);
        records = [];
      }
      continue;
    }
    round.messages[hostile.channel].push({ key: hostile.key, value: hostile.value });
    expectDeadLetters(hostile.deadLetters);
    expected.processed += hostile.validItems + hostile.refusedByPipeline;
    expected.valid += hostile.validItems;
    // Valid neighbours: one point after every telemetry input, a change or catalog entry after every third.
    if (hostile.channel === 'telemetry') {
      const point = state.validPoint();
      round.messages.telemetry.push({ key: point.service, value: JSON.stringify(point) });
    } else if (i % 3 === 0) {
      const valid = hostile.channel === 'changes' ? state.validChange() : state.validService();
      round.messages[hostile.channel].push({ key: 'service' in valid ? valid.service : valid.name, value: JSON.stringify(valid) });
    } else continue;
    expected.processed++;
    expected.valid++;
  }
  if (records.length) round.itemRequests.push(records);
  return round;
}

/** Produces the round's messages, topic by topic. */
async function sendKafka(producer: Awaited<ReturnType<typeof connectProducer>>, topics: RunTopics, round: Round): Promise<void> {
  const topicOf = { telemetry: topics.telemetry, changes: topics.changes, services: topics.services } as const;
  for (const channel of ['changes', 'services', 'telemetry'] as const) {
    const messages = round.messages[channel];
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: topicOf[channel], messages: messages.slice(i, i + 500) });
  }
}

/** Sends the round's HTTP requests and checks every answer against the corpus. */
async function sendHttp(url: string, round: Round, mismatch: (line: string) => void): Promise<void> {
  const jobs: Array<() => Promise<void>> = [
    ...round.itemRequests.map((records) => async () => {
      const { status, body } = await post(url, {}, JSON.stringify({ events: records.map((r) => r.record) }));
      if (status !== 202) return mismatch(`a batch of ${records.length} records: status ${status} ${JSON.stringify(body).slice(0, 200)}`);
      const rejected = new Map(((body as { rejected: Array<{ index: number; error: { code: string } }> }).rejected ?? []).map((r) => [r.index, r.error.code]));
      records.forEach((record, index) => {
        const got = rejected.get(index);
        if (got !== record.inline) mismatch(`record ${JSON.stringify(record.record).slice(0, 80)}: expected ${record.inline ?? 'accepted'}, got ${got ?? 'accepted'}`);
      });
    }),
    ...round.requests.map((request) => async () => {
      const { status, body } = await post(url, request.headers, request.body);
      const code = (body as { error?: { code?: string } } | undefined)?.error?.code;
      if (request.code === 'accepted') {
        const first = (body as { rejected?: Array<{ error: { code: string } }> } | undefined)?.rejected?.[0]?.error.code;
        if (status !== request.status || first !== request.itemCode) mismatch(`${describeRequest(request)}: expected ${request.status} with the record refused as ${request.itemCode}, got ${status} ${code ?? first ?? ''}`);
        // What it was expected to dead-letter did not happen if the request failed: the dead-letter check reports it too.
      } else if (status !== request.status || code !== request.code) {
        mismatch(`${describeRequest(request)}: expected ${request.status} ${request.code}, got ${status} ${code ?? ''}`);
      }
    }),
  ];
  let next = 0;
  await Promise.all(
    Array.from({ length: HTTP_CONCURRENCY }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

/** A request in one line: its headers and the start of its body. */
function describeRequest(request: HostileRequest): string {
  return `POST ${JSON.stringify(request.headers)} ${String(request.body).slice(0, 60)}`;
}

/** One POST /api/v1/events as the operator; the status and the JSON body (undefined when not JSON). */
async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: unknown }> {
  try {
    const response = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { ...AS_OPERATOR, ...headers }, body, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      return { status: response.status, body: undefined };
    }
  } catch (error) {
    return { status: 0, body: { error: { code: `no answer: ${(error as Error).message}` } } };
  }
}
