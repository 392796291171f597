import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  exponentialBuckets,
} from 'prom-client';

/** Seconds, from 5 ms to about 3 hours: queue waits and job runs span all of it. */
const DURATION_BUCKETS = exponentialBuckets(0.005, 4, 12);

/**
 * Every metric a Danube process exports, in one registry per process (the all-in-one
 * `npm start` process shares it between its API and executor). Labels take bounded
 * values only: topic, task class, outcome, status, error category, verb, code; never a
 * job id.
 */
export class DanubeMetrics {
  readonly registry = new Registry();

  readonly jobsEnqueued = new Counter({
    name: 'danube_jobs_enqueued_total',
    help: 'Jobs stored by the API (jobs, batches, workflow nodes, steps)',
    labelNames: ['topic', 'task_class'] as const,
    registers: [this.registry],
  });

  readonly jobsClaimed = new Counter({
    name: 'danube_jobs_claimed_total',
    help: 'Jobs claimed by this executor',
    labelNames: ['topic', 'task_class'] as const,
    registers: [this.registry],
  });

  readonly attemptsFinished = new Counter({
    name: 'danube_attempts_finished_total',
    help: 'Attempts this executor recorded, by outcome (succeeded, failed, timed_out, cancelled)',
    labelNames: ['topic', 'task_class', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobsFinished = new Counter({
    name: 'danube_jobs_finished_total',
    help: 'Jobs that reached a final status on this executor (succeeded, failed, timed_out, cancelled)',
    labelNames: ['topic', 'task_class', 'status'] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'danube_job_retries_total',
    help: 'Failed attempts that put their job back in the queue for another attempt',
    labelNames: ['topic', 'task_class', 'error_category'] as const,
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'danube_job_queue_wait_seconds',
    help: 'From when a job was due (enqueue, runAt or retry time) to when its attempt started',
    labelNames: ['topic', 'task_class'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly runDuration = new Histogram({
    name: 'danube_job_run_duration_seconds',
    help: 'How long attempts ran, by outcome',
    labelNames: ['topic', 'task_class', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly running = new Gauge({
    name: 'danube_jobs_running',
    help: 'Attempts this executor is running now',
    labelNames: ['executor'] as const,
    registers: [this.registry],
  });

  readonly leaseRenewals = new Counter({
    name: 'danube_lease_renewals_total',
    help: 'Leases renewed by heartbeats',
    registers: [this.registry],
  });

  readonly leaseTakeovers = new Counter({
    name: 'danube_lease_takeovers_total',
    help: 'Attempts taken over from an executor whose lease expired (adopted or recorded as lost)',
    registers: [this.registry],
  });

  readonly leasesLost = new Counter({
    name: 'danube_leases_lost_total',
    help: 'Attempts this executor stopped because another executor had taken their lease',
    registers: [this.registry],
  });

  readonly claimDuration = new Histogram({
    name: 'danube_claim_duration_seconds',
    help: 'Duration of one claim statement',
    buckets: exponentialBuckets(0.0005, 2, 14),
    registers: [this.registry],
  });

  readonly kubernetesRequests = new Histogram({
    name: 'danube_kubernetes_request_duration_seconds',
    help: 'Kubernetes API requests made by the kubernetes runtime, by verb and HTTP status code',
    labelNames: ['verb', 'code'] as const,
    buckets: exponentialBuckets(0.005, 2, 12),
    registers: [this.registry],
  });

  readonly scheduleFires = new Counter({
    name: 'danube_schedule_fires_total',
    help: 'Scheduled times that came due, by outcome: started, skipped (overlap, refused) or missed (too late)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition format, for GET /metrics. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
