/**
 * The simulated fleet's services: who calls whom and each service's normal traffic, error rate and latency.
 */

/** A simulated service and its healthy baseline. */
export interface ServiceSpec {
  name: string;
  dependsOn: string[];
  /** Requests per second at the daily mean. */
  baseRps: number;
  /** Fraction of requests that fail when healthy. */
  baseErrorRate: number;
  /** p99 latency in ms when healthy. */
  baseLatencyMs: number;
  /** Whether its telemetry carries `tags.version` and its deploys roll out gradually. */
  versioned: boolean;
  /** Traffic multiple it absorbs before it saturates (latency and errors climb beyond it). */
  headroom: number;
}

/** A dozen services of a shop: two front ends, a gateway and the services behind it. */
export const DEFAULT_FLEET: readonly ServiceSpec[] = [
  { name: 'web-frontend', dependsOn: ['api-gateway'], baseRps: 800, baseErrorRate: 0.004, baseLatencyMs: 180, versioned: false, headroom: 4 },
  { name: 'mobile-bff', dependsOn: ['api-gateway'], baseRps: 500, baseErrorRate: 0.005, baseLatencyMs: 220, versioned: false, headroom: 4 },
  { name: 'api-gateway', dependsOn: ['checkout', 'search', 'accounts', 'catalog'], baseRps: 1300, baseErrorRate: 0.003, baseLatencyMs: 150, versioned: true, headroom: 4 },
  { name: 'checkout', dependsOn: ['payments', 'inventory', 'cart', 'notifications'], baseRps: 300, baseErrorRate: 0.006, baseLatencyMs: 320, versioned: true, headroom: 3 },
  { name: 'search', dependsOn: ['catalog'], baseRps: 600, baseErrorRate: 0.004, baseLatencyMs: 120, versioned: true, headroom: 1.8 },
  { name: 'accounts', dependsOn: [], baseRps: 250, baseErrorRate: 0.002, baseLatencyMs: 90, versioned: false, headroom: 3 },
  { name: 'catalog', dependsOn: [], baseRps: 700, baseErrorRate: 0.002, baseLatencyMs: 60, versioned: true, headroom: 2.2 },
  { name: 'payments', dependsOn: ['fraud-check'], baseRps: 200, baseErrorRate: 0.008, baseLatencyMs: 450, versioned: true, headroom: 3 },
  { name: 'inventory', dependsOn: [], baseRps: 300, baseErrorRate: 0.003, baseLatencyMs: 70, versioned: false, headroom: 3 },
  { name: 'cart', dependsOn: ['inventory'], baseRps: 250, baseErrorRate: 0.003, baseLatencyMs: 80, versioned: true, headroom: 3 },
  { name: 'fraud-check', dependsOn: [], baseRps: 200, baseErrorRate: 0.004, baseLatencyMs: 200, versioned: false, headroom: 3 },
  { name: 'notifications', dependsOn: [], baseRps: 150, baseErrorRate: 0.01, baseLatencyMs: 110, versioned: false, headroom: 3 },
];

/** The services that call `service`, directly or through others. */
export function transitiveCallers(fleet: readonly ServiceSpec[], service: string): string[] {
  const callers = new Set<string>();
  const queue = [service];
  while (queue.length) {
    const current = queue.shift()!;
    for (const spec of fleet) {
      if (spec.dependsOn.includes(current) && !callers.has(spec.name)) {
        callers.add(spec.name);
        queue.push(spec.name);
      }
    }
  }
  return [...callers];
}
