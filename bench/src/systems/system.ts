/**
 * What every queue in the benchmark implements. Each call runs in a fresh child process
 * against a fresh database, so no system inherits another's connections, caches or heap.
 */
export interface DrainOptions {
  jobs: number;
}

export interface EnqueueOptions {
  jobs: number;
  batchSize: number;
}

export interface LatencyOptions {
  jobs: number;
  gapMs: number;
}

export interface DrainResult {
  seconds: number;
  jobsPerSecond: number;
}

export interface LatencyResult {
  /** Enqueue-to-start, one sample per job, in milliseconds. */
  samplesMs: number[];
}

export interface BenchSystem {
  /** Drain `jobs` no-op jobs that are already queued; time from worker start to the last completion. */
  drain(databaseUrl: string, options: DrainOptions): Promise<DrainResult>;
  /** Enqueue `jobs` jobs in batches through the system's bulk API; time the enqueueing. */
  enqueue(databaseUrl: string, options: EnqueueOptions): Promise<DrainResult>;
  /** Enqueue jobs one at a time, `gapMs` apart, onto an idle queue with waiting workers. */
  latency(databaseUrl: string, options: LatencyOptions): Promise<LatencyResult>;
}

export interface DepthOptions {
  /** Jobs already in the table before the measurement: half due on another topic, half due tomorrow on this one. */
  background: number;
  jobs: number;
}

export interface DepthResult {
  claimP50Ms: number;
  claimP99Ms: number;
  jobsPerSecond: number;
  explain: string;
}

export interface FleetOptions {
  jobs: number;
  executors: number;
}

export interface MemoryOptions {
  jobs: number;
  sleepSeconds: number;
}

export interface MemoryResult {
  peakRssMb: number;
  secondsToStartAll: number;
}

/** Scenarios only Danube runs: they need its executor processes or its process runtime. */
export interface FleetSystem {
  depth(databaseUrl: string, options: DepthOptions): Promise<DepthResult>;
  fleet(databaseUrl: string, options: FleetOptions): Promise<DrainResult>;
  memory(databaseUrl: string, options: MemoryOptions): Promise<MemoryResult>;
}
