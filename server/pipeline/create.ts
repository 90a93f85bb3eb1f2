/**
 * Builds a pipeline from configuration with the library's default detector and attribution engine,
 * fresh or restored from a checkpoint. The live service and `changewatch replay` both use this, so
 * they run the same code.
 */
import { createDefaultDetector, restoreDetector } from '../../detectors/index.ts';
import { metricKindOf, type EffectSize, type MetricKind } from '../../detectors/metric-kind.ts';
import { createAttributor, restoreAttributor, type AttributorOptions } from '../../detectors/attribution/index.ts';
import type { ServiceEntry } from '../../contract/events.ts';
import { Pipeline, type DetectorFactory, type PipelineOptions, type PipelineSnapshot } from './pipeline.ts';

/** The detector factory backed by the detectors library's registry. */
export const defaultDetectors: DetectorFactory = { create: createDefaultDetector, restore: restoreDetector };

/** The default detectors with configured effect sizes (`pipeline.effectSizes`) for the kinds given. */
export function detectorsWithEffectSizes(sizes: Partial<Record<MetricKind, EffectSize>> | undefined): DetectorFactory {
  if (!sizes) return defaultDetectors;
  return {
    create: (hints) => {
      const size = sizes[metricKindOf(hints.metric)];
      return createDefaultDetector(size ? { ...hints, effectSize: size } : hints);
    },
    restore: restoreDetector,
  };
}

/**
 * Creates a pipeline with the given options and service catalog, or restores it from `snapshot`;
 * `options.effectSizes` (from the config) overrides the metric kinds' default effect sizes for new series.
 * Attribution counts a point as anomalous at the same threshold as the pipeline, and reads a point's
 * environment with the same default, also when restored from a checkpoint written under another config.
 */
export function createPipeline(
  options: PipelineOptions & { effectSizes?: Partial<Record<MetricKind, EffectSize>> },
  catalog: readonly ServiceEntry[] = [],
  snapshot?: PipelineSnapshot,
): Pipeline {
  const detectors = detectorsWithEffectSizes(options.effectSizes);
  const attribution: Partial<AttributorOptions> = { anomalyScore: options.alertThreshold, defaultEnvironment: options.defaultEnvironment };
  if (snapshot) {
    const restored = Pipeline.restore(snapshot, detectors, restoreAttributor(snapshot.attributor, attribution), options);
    // The restored attributor has its catalog already; the charts' history starts empty and needs it too.
    for (const service of catalog) restored.history.observeService(service);
    return restored;
  }
  const pipeline = new Pipeline(detectors, createAttributor(attribution), options);
  for (const service of catalog) pipeline.ingest({ service: { name: service.name, dependsOn: [...service.dependsOn] } });
  return pipeline;
}
