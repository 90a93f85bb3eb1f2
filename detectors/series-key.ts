/**
 * Series identity, shared by the pipeline (one detector and one alert state per series) and attribution
 * (one track per series), so that both split telemetry the same way.
 *
 * A series is one service's one metric in one environment, split further by every tag except `version`:
 * the per-version points of a rollout are parts of one series (the pipeline combines them, attribution
 * compares them). The environment is the point's `environment` tag, else its `env` tag, else the
 * configured default (`pipeline.defaultEnvironment`); those two tags are read into it, not split on.
 *
 * A key is `service\0metric\0scope`, the scope being the environment followed by `\0name=value` for each
 * splitting tag in name order. Alert ids and checkpoints derive from keys: the format must not change.
 */

/** The environment of telemetry without an `environment` or `env` tag, unless configured otherwise. */
export const DEFAULT_ENVIRONMENT = 'prod';

/** What tells one series from another. */
export interface SeriesIdentity {
  service: string;
  metric: string;
  environment: string;
  /** The point's tags; `version`, `environment` and `env` are ignored (see the file's header). */
  tags?: Readonly<Record<string, string>> | undefined;
}

/** The environment of a point tagged `tags`: its `environment` tag, else its `env` tag, else `defaultEnvironment`. */
export function environmentOf(tags: Readonly<Record<string, string>> | undefined, defaultEnvironment: string): string {
  return tags?.environment ?? tags?.env ?? defaultEnvironment;
}

/**
 * The part of a series key after service and metric: `environment`, then `\0name=value` for each
 * splitting tag of `tags`, sorted by name. Without splitting tags (the common case) it is `environment`
 * itself, found without allocating, so it can be worked out on every point.
 */
export function seriesScope(environment: string, tags?: Readonly<Record<string, string>>): string {
  if (tags === undefined || !hasSplittingTag(tags)) return environment;
  let scope = environment;
  for (const tag of Object.keys(tags).sort()) if (splits(tag)) scope += `\u0000${tag}=${tags[tag]}`;
  return scope;
}

/** The key of a series: `service\0metric\0` and its scope (`seriesScope`). */
export function seriesKey(series: SeriesIdentity): string {
  return `${series.service}\u0000${series.metric}\u0000${seriesScope(series.environment, series.tags)}`;
}

/** The scope of `key` when it is a key of `service`'s `metric` (`seriesKey`), else undefined. */
export function scopeOfKey(key: string, service: string, metric: string): string | undefined {
  const prefix = `${service}\u0000${metric}\u0000`;
  return key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

/** True for a tag that splits series: any but `version`, `environment` and `env`. */
function splits(tag: string): boolean {
  return tag !== 'version' && tag !== 'environment' && tag !== 'env';
}

/** True when `tags` hold a tag that splits series (most points hold none, or only `version`). */
function hasSplittingTag(tags: Readonly<Record<string, string>>): boolean {
  for (const tag in tags) if (splits(tag)) return true;
  return false;
}
