import type { Cluster } from './cluster';
import { jobCommand } from './ledger';

export interface WorkloadOptions {
  jobs: number;
  /** How long each job runs, in ticks of 100 ms. */
  ticks: number | ((n: number) => number);
  topic: string;
  /** Jobs per POST /v1/jobs/batch. */
  batch?: number;
  /** Pause between batches (ms): spreads the submissions over the scenario. */
  paceMs?: number;
  /** Generous, so that faults alone never exhaust a job's attempts. */
  maxAttempts?: number;
  /** Stop submitting after this long (the soak), even if `jobs` were not all sent. */
  durationMs?: number;
}

/** How many jobs beyond `jobs` a workload may add while faults go on, as a share of it. */
const MAX_EXTRA_SHARE = 2;

/**
 * Submits the scenario's jobs and keeps the account of what Danube acknowledged. Every job
 * carries an idempotency key, so a batch whose answer was lost (a 503, a reset connection)
 * is simply sent again: acknowledged means a 2xx came back with the job's id.
 */
export class Workload {
  /** Job ids Danube answered 2xx for. */
  readonly acknowledged = new Set<string>();
  private submitted = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly ledger: string,
    private readonly options: WorkloadOptions,
  ) {}

  private faultsGoingOn = true;

  /** The scenario's faults are over: submit no more than `jobs`. */
  faultsEnded(): void {
    this.faultsGoingOn = false;
  }

  /** The share of the jobs submitted so far (of the time, for a soak). */
  get progress(): number {
    return this.submitted / this.options.jobs;
  }

  /**
   * Submits `jobs` jobs at the workload's pace; if the scenario's faults are still going on
   * then, it goes on submitting at that pace until they end (at most MAX_EXTRA_SHARE more),
   * so that every fault finds jobs in flight however slow the machine makes the faults.
   */
  async submitAll(): Promise<void> {
    const { jobs, batch = 50, paceMs = 0, durationMs } = this.options;
    const until = durationMs === undefined ? Infinity : Date.now() + durationMs;
    const more = (first: number) =>
      first < jobs || (this.faultsGoingOn && first < jobs * (1 + MAX_EXTRA_SHARE));
    for (let first = 0; more(first) && Date.now() < until; first += batch) {
      const count = first < jobs ? Math.min(batch, jobs - first) : batch;
      await this.submitBatch(first, count);
      this.submitted = first + count;
      if (paceMs > 0) await sleep(paceMs);
    }
  }

  private async submitBatch(first: number, count: number): Promise<void> {
    const { topic, ticks, maxAttempts = 25 } = this.options;
    const body = {
      jobs: Array.from({ length: count }, (_, i) => ({
        topic,
        command: jobCommand(this.ledger, typeof ticks === 'number' ? ticks : ticks(first + i)),
        idempotencyKey: `chaos-${topic}-${first + i}`,
        maxAttempts,
        backoff: { initialSeconds: 0.2, factor: 2, maxSeconds: 2 },
        timeoutSeconds: 60,
      })),
    };
    for (let attempt = 1; ; attempt++) {
      const response = await this.cluster.request('POST', '/v1/jobs/batch', body);
      if (response && response.status < 300) {
        for (const job of response.body.jobs ?? []) this.acknowledged.add(job.id);
        return;
      }
      if (response && response.status < 500 && response.status !== 409) {
        throw new Error(
          `the API refused a chaos batch (${response.status}): ${JSON.stringify(response.body)}`,
        );
      }
      await sleep(Math.min(2000, 100 * attempt));
    }
  }

  /** Resolves once every acknowledged job has ended, or after `timeoutMs`. */
  async waitForEnd(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const unfinished = await this.cluster.pool
        .query<{ n: number }>(
          `SELECT count(*)::int AS n FROM danube.jobs
           WHERE id = ANY($1::bigint[]) AND status NOT IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped')`,
          [[...this.acknowledged]],
        )
        .then((r) => r.rows[0]!.n)
        .catch(() => null);
      if (unfinished === 0) return;
      await sleep(500);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
