/**
 * Builds a pipeline from configuration with the library's default detector and attribution engine,
 * fresh or restored from a checkpoint. The live service and `changewatch replay` both use this, so
 * they run the same code.
 */
import { createDefaultDetector, restoreDetector } from '../../detectors/index.ts';
import { createAttributor, restoreAttributor } from '../../detectors/attribution/index.ts';
import type { ServiceEntry } from '../../detectors/events.ts';
import { Pipeline, type DetectorFactory, type PipelineOptions, type PipelineSnapshot } from './pipeline.ts';

/** The detector factory backed by the detectors library's registry. */
export const defaultDetectors: DetectorFactory = { create: createDefaultDetector, restore: restoreDetector };

/** Creates a pipeline with the given options and service catalog, or restores it from `snapshot`. */
export function createPipeline(options: PipelineOptions, catalog: readonly ServiceEntry[] = [], snapshot?: PipelineSnapshot): Pipeline {
  if (snapshot) return Pipeline.restore(snapshot, defaultDetectors, restoreAttributor(snapshot.attributor), options);
  const pipeline = new Pipeline(defaultDetectors, createAttributor(), options);
  for (const service of catalog) pipeline.ingest({ service: { name: service.name, dependsOn: [...service.dependsOn] } });
  return pipeline;
}
