import os from 'node:os';

/** The parallelism of `runAll` for a task's `maxConcurrent`: 0 = CPUs, -1 = 128, n > 0 = n. */
export function concurrencyLimit(maxConcurrent: number, cpus = os.availableParallelism()): number {
  if (maxConcurrent === 0) return cpus;
  if (maxConcurrent === -1) return 128;
  if (Number.isInteger(maxConcurrent) && maxConcurrent > 0) return maxConcurrent;
  throw new TypeError(`maxConcurrent: expected 0, -1 or a positive integer, got ${maxConcurrent}`);
}
