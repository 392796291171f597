import * as hdr from 'hdr-histogram-js';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

/** Latency percentiles from an HDR histogram (1 µs to 1 min, 3 significant digits). */
export function percentiles(samplesMs: number[]): Percentiles {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const ms of samplesMs) histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  const at = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  return {
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: histogram.maxValue / 1000,
    count: samplesMs.length,
  };
}
