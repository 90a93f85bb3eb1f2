/**
 * Reads Prometheus exposition text in tests with a real parser (parse-prometheus-text-format), so a
 * test checks what a Prometheus server would read, not what a regular expression happens to match.
 */
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';

/** The families of an exposition, by name. */
export class Scrape {
  readonly families: ReadonlyMap<string, ParsedFamily>;

  constructor(readonly text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  }

  /** The family `name`; throws when the exposition lacks it. */
  family(name: string): ParsedFamily {
    const family = this.families.get(name);
    if (!family) throw new Error(`no metric family ${name} in the scrape (it has ${[...this.families.keys()].join(', ')})`);
    return family;
  }

  /** The sample of `name` whose labels include `labels`, or undefined. */
  sample(name: string, labels: Record<string, string> = {}): ParsedSample | undefined {
    return this.family(name).metrics.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
  }

  /** The numeric value of that sample (a histogram's count); NaN when there is none. */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.sample(name, labels);
    return Number(sample?.value ?? sample?.count ?? Number.NaN);
  }
}

/** GETs `url` (a service's /metrics) and parses the answer; throws unless it is a 200 in the text format. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) throw new Error(`GET ${url}: content-type ${res.headers.get('content-type')}`);
  return new Scrape(text);
}
