/**
 * Small statistics for the benchmarks' JSON: percentiles of latency samples, medians of
 * repetitions, rounding. Pure functions.
 */

/** The p-quantile (0..1) of ascending samples, nearest rank; NaN when there are none. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export function median(xs: readonly number[]): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
