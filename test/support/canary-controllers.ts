/**
 * The requests canary controllers send, byte for byte where it matters, for tests of the gates
 * (server/http/gates-routes.ts):
 *
 * - Argo Rollouts' web metric provider (metricproviders/webmetric): a `GET` of the template's `url`
 *   with exactly the template's `headers` set (Go's client adds its User-Agent and gzip Accept-Encoding);
 *   a non-2xx answer is a measurement error, a 2xx body is parsed as JSON and `jsonPath` applied.
 * - Flagger's webhooks (pkg/controller/webhook.go): a `POST` of the hook's `url` with only
 *   `Content-Type: application/json` and the JSON of `CanaryWebhookPayload` — `name`, `namespace`,
 *   `phase`, `checksum` and, when the hook has any, `metadata` (Go marshals struct fields in
 *   declaration order, map keys sorted); Flagger treats a status above 202 as a failed check.
 */

/** Headers Go's net/http client adds to every request. */
const GO_CLIENT_HEADERS = { 'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'gzip' } as const;

/** What a controller got back. */
export interface ControllerAnswer<T = object> {
  status: number;
  /** The raw body (what Flagger copies into the canary's events on a refusal). */
  text: string;
  body: T;
}

/** An Argo AnalysisTemplate's web metric: `url` with its `{{ args.* }}` already substituted, and its headers. */
export async function argoWebMetric<T = Record<string, unknown>>(url: string, headers: ReadonlyArray<{ key: string; value: string }> = []): Promise<ControllerAnswer<T>> {
  const sent: Record<string, string> = { ...GO_CLIENT_HEADERS };
  for (const header of headers) sent[header.key] = header.value;
  const res = await fetch(url, { method: 'GET', headers: sent });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as T };
}

/**
 * Applies Argo's `jsonPath: "{$.healthy}"` and `successCondition: result == true`: the measurement
 * is `Successful` when true, `Failed` when not, `Error` on a non-2xx answer.
 */
export function argoMeasurement(answer: ControllerAnswer<object>): 'Successful' | 'Failed' | 'Error' {
  if (answer.status < 200 || answer.status >= 300) return 'Error';
  return (answer.body as { healthy?: unknown }).healthy === true ? 'Successful' : 'Failed';
}

/** The canary a Flagger webhook describes. */
export interface FlaggerCanary {
  name: string;
  namespace: string;
  phase: 'Initializing' | 'Initialized' | 'Waiting' | 'Progressing' | 'WaitingPromotion' | 'Promoting' | 'Finalising' | 'Succeeded' | 'Failed';
  checksum: string;
  metadata?: Record<string, string>;
}

/** Flagger calling the webhook at `url` for `canary`. */
export async function flaggerWebhook<T = Record<string, unknown>>(url: string, canary: FlaggerCanary): Promise<ControllerAnswer<T>> {
  const payload = { name: canary.name, namespace: canary.namespace, phase: canary.phase, checksum: canary.checksum, ...(canary.metadata ? { metadata: sortedKeys(canary.metadata) } : {}) };
  const res = await fetch(url, { method: 'POST', headers: { ...GO_CLIENT_HEADERS, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as T };
}

/** Flagger's reading of an answer: 200–202 passes (`r.StatusCode > 202` is an error). */
export function flaggerPassed(answer: ControllerAnswer<object>): boolean {
  return answer.status >= 200 && answer.status <= 202;
}

function sortedKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
