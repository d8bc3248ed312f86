// fast-check settings shared by the property tests: a fixed seed from the environment
// reproduces a failing run (fast-check prints the seed and path when one fails).
import type { Parameters } from 'fast-check';

export function propertyOptions<T>(runs = 150): Parameters<T> {
  const seed = process.env.SLUICE_PROPERTY_SEED;
  const numRuns = Number(process.env.SLUICE_PROPERTY_RUNS) || runs;
  return { numRuns, ...(seed ? { seed: Number(seed) } : {}), includeErrorInReport: true };
}
