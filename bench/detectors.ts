/**
 * `npm run bench:detectors`: throughput of the default detector (for a utilization metric, so the effect
 * detector; the plain ensemble is measured in the same run as a reference) on one core over 100,000 distinct series,
 * its state size per series measured from heap and array-buffer use, and the size of the checkpoint the
 * pipeline writes for a series (`JSON.stringify(detector.toJSON())`). Ends with one JSON line
 * `{"detectors":{"pointsPerSec":…,"bytesPerSeries":…,"checkpointBytesPerSeries":…,"series":100000}}`.
 *
 * Series are fed round-robin (one point per series per minute), the way a pipeline interleaves them,
 * so every update touches a different detector's state. Throughput is measured after warm-up, on the
 * full scoring path, per second of CPU time used by this process (user + system): on a shared machine
 * wall-clock time also counts other processes' turns. Both are printed; the JSON line carries CPU-based.
 */
import { createDefaultDetector } from '../detectors/index.ts';
import { ensemble } from '../detectors/ensemble.ts';
import type { Detector } from '../detectors/types.ts';

const SERIES = 100_000;
const MINUTE = 60_000;
const WARM_ROUNDS = 110;
const MEASURED_ROUNDS = 30;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:detectors does)');

/** Heap plus typed-array backing stores, after a full collection. */
function memoryInUse(): number {
  gc!();
  gc!();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

// Precomputed noise so the loop measures detectors, not a random number generator.
const NOISE = new Float64Array(1 << 16);
let seed = 12345;
for (let i = 0; i < NOISE.length; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  NOISE[i] = (seed / 2 ** 32 - 0.5) * 4;
}
const LEVELS = Float64Array.from({ length: SERIES }, (_, i) => 10 + (i % 1000));

const before = memoryInUse();
const DETECTORS: Detector[] = new Array(SERIES);
const detectors = DETECTORS;
for (let i = 0; i < SERIES; i++) detectors[i] = createDefaultDetector({ metric: 'cpu_utilization' });
const bytesPerSeries = (memoryInUse() - before) / SERIES;

function feed(fromRound: number, rounds: number, detectors: Detector[] = DETECTORS): number {
  let checksum = 0;
  for (let round = fromRound; round < fromRound + rounds; round++) {
    const timestamp = round * MINUTE;
    for (let i = 0; i < SERIES; i++) {
      const value = LEVELS[i]! + NOISE[(i * 7919 + round * 104_729) & 0xffff]!;
      checksum += detectors[i]!.update({ timestamp, value }).score;
    }
  }
  return checksum;
}

let started = performance.now();
feed(0, WARM_ROUNDS);
const warmSeconds = (performance.now() - started) / 1000;
started = performance.now();
const cpuBefore = process.cpuUsage();
const checksum = feed(WARM_ROUNDS, MEASURED_ROUNDS);
const cpu = process.cpuUsage(cpuBefore);
const seconds = (performance.now() - started) / 1000;
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const points = SERIES * MEASURED_ROUNDS;

/** Series whose checkpoint JSON is measured (every one would only repeat the same fixed-size layout). */
const CHECKPOINT_SAMPLE = 1000;
let checkpointChars = 0;
for (let i = 0; i < CHECKPOINT_SAMPLE; i++) checkpointChars += JSON.stringify(detectors[i]!.toJSON()).length;
const checkpointBytesPerSeries = Math.round(checkpointChars / CHECKPOINT_SAMPLE);
const pointsPerSec = Math.round(points / cpuSeconds);

console.log(`default detector for cpu_utilization (practical: the effect detector), ${SERIES} series, round-robin`);
console.log(`state: ${Math.round(bytesPerSeries)} bytes per series (heap + array buffers after GC, fresh detectors)`);
console.log(`checkpoint: ${checkpointBytesPerSeries} bytes of JSON per series (mean of ${CHECKPOINT_SAMPLE}, after ${WARM_ROUNDS + MEASURED_ROUNDS} points)`);
console.log(`warm-up: ${WARM_ROUNDS} rounds in ${warmSeconds.toFixed(1)} s`);
console.log(
  `measured: ${points} points in ${cpuSeconds.toFixed(2)} s of CPU = ${pointsPerSec.toLocaleString('en-US')} points/s ` +
    `(${seconds.toFixed(2)} s wall = ${Math.round(points / seconds).toLocaleString('en-US')} points/s; checksum ${checksum.toFixed(3)})`,
);
// The same rounds on the plain ensemble in this run: this machine's speed changes from run to run, the ratio much less.
const reference: Detector[] = Array.from({ length: SERIES }, () => ensemble.create());
feed(0, WARM_ROUNDS, reference);
const referenceCpu = process.cpuUsage();
feed(WARM_ROUNDS, MEASURED_ROUNDS, reference);
const referenceUsed = process.cpuUsage(referenceCpu);
const referencePointsPerSec = Math.round(points / ((referenceUsed.user + referenceUsed.system) / 1e6));
const ratio = Math.round((pointsPerSec / referencePointsPerSec) * 100) / 100;
console.log(`reference (the plain ensemble, same rounds, this run): ${referencePointsPerSec.toLocaleString('en-US')} points/s; ratio ${ratio}`);
console.log(JSON.stringify({ detectors: { pointsPerSec, referencePointsPerSec, ratio, bytesPerSeries: Math.round(bytesPerSeries), checkpointBytesPerSeries, series: SERIES } }));
