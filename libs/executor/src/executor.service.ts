import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import {
  AttemptsRepository,
  CANCEL_CHANNEL,
  ExecutorsRepository,
  JOBS_CHANNEL,
  Listener,
  Notifier,
  type AttemptFinish,
} from '@danube/queue';
import type { ClaimedJob } from '@danube/core';
import type { DanubeMetrics } from '@danube/observability';
import { WorkflowRelease } from '@danube/dag';
import type { Runtime } from '@danube/runtime';
import type { Pool } from 'pg';
import { AttemptWriter } from './attempt-writer';
import type { ExecutorOptions } from './executor.config';
import { JobEnvironment } from './job-environment';
import { JobRunner } from './job-runner';
import { Reaper } from './reaper';
import { Wakeup } from './wakeup';

const VERSION = process.env.npm_package_version ?? '0.1.0';
/**
 * Claims in flight at once. With two, one claim's commit overlaps the next claim's query
 * (Postgres flushes concurrent commits together), which matters on disks where a commit
 * costs milliseconds; more than two gains nothing on a queue that one claim keeps up with.
 */
const CLAIM_LOOPS = 2;

export interface ExecutorDeps {
  pool: Pool;
  attempts: AttemptsRepository;
  executors: ExecutorsRepository;
  environment: JobEnvironment;
  databaseUrl: string;
  runtime: Runtime;
  options: ExecutorOptions;
  metrics: DanubeMetrics;
}

/**
 * One executor process's work: claim due jobs of its topics in batches, run each on the
 * runtime, renew all its leases with one statement per heartbeat, reap expired leases
 * (one executor at a time), and on stop, finish or release what it holds.
 *
 * The claim loop claims again at once while batches come back full; otherwise it sleeps
 * until a NOTIFY for one of its topics, a retry it scheduled, a freed slot when it was
 * full, or the poll interval.
 */
export class ExecutorService {
  private readonly logger = new Logger('Executor');
  private readonly attempts: AttemptsRepository;
  private readonly executors: ExecutorsRepository;
  private readonly writer: AttemptWriter;
  private readonly release = new WorkflowRelease();
  private readonly notifier: Notifier;
  private readonly listener: Listener;
  private readonly wakeup = new Wakeup();
  private readonly reaper: Reaper;
  private readonly environment: JobEnvironment;
  private readonly running = new Map<string, JobRunner>();
  private readonly timers: NodeJS.Timeout[] = [];
  private retryTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private loop: Promise<void> | null = null;
  /** Slots promised to claims in flight. */
  private reserved = 0;
  private stopping = false;
  private full = false;
  private stopped: Promise<void> | null = null;
  private idle: (() => void) | null = null;

  private get metrics(): DanubeMetrics {
    return this.deps.metrics;
  }

  constructor(private readonly deps: ExecutorDeps) {
    const { pool, options, runtime } = deps;
    this.attempts = deps.attempts;
    this.environment = deps.environment;
    this.executors = deps.executors;
    this.notifier = new Notifier(pool, (error) =>
      this.logger.warn(`NOTIFY failed: ${String(error)}`),
    );
    this.writer = new AttemptWriter(
      pool,
      options.instanceId,
      runtime.name,
      this.release,
      (topics) => this.notifier.notify(JOBS_CHANNEL, topics),
    );
    this.reaper = new Reaper(pool, this.release, (topics) =>
      this.notifier.notify(JOBS_CHANNEL, topics),
    );
    this.listener = new Listener(deps.databaseUrl, [JOBS_CHANNEL, CANCEL_CHANNEL], {
      onNotification: (channel, payload) => this.onNotification(channel, payload),
      onConnected: () => this.wakeup.poke(),
      onError: (error) =>
        this.logger.warn(`LISTEN connection lost, reconnecting: ${String(error)}`),
    });
  }

  get id(): string {
    return this.deps.options.instanceId;
  }

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    const { options, runtime } = this.deps;
    await this.executors.register({
      id: options.instanceId,
      topics: options.topics ?? ['ALL'],
      host: hostname(),
      pid: process.pid,
      version: VERSION,
      runtime: runtime.name,
      capacity: options.concurrency,
    });
    await this.listener.start();
    this.every('heartbeat', options.heartbeatMs, () => this.heartbeat());
    this.every('lease guard', Math.min(250, options.heartbeatMs), async () => this.guardLeases());
    this.every('reaper', options.reapIntervalMs, () => this.reaper.reap());
    this.loop = Promise.all(Array.from({ length: CLAIM_LOOPS }, () => this.claimLoop())).then(
      () => undefined,
    );
    this.logger.log(
      `executor ${options.instanceId} started: topics ${options.topics?.join(',') ?? 'ALL'}, runtime ${runtime.name}, batch ${options.batchSize}, concurrency ${options.concurrency}`,
    );
    if (!options.keyring) {
      this.logger.warn(
        'DANUBE_SECRET_KEY is not set: jobs get no DANUBE_JOB_TOKEN (the JobService will refuse them) and jobs with secretEnv fail',
      );
    }
  }

  /**
   * Stops claiming, lets running attempts finish for up to the grace period, then stops
   * the rest and hands their jobs back to the queue for another executor.
   */
  stop(graceMs = this.deps.options.shutdownGraceMs): Promise<void> {
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wakeup.pokeAll();
    await this.loop;
    if (this.running.size > 0) {
      this.logger.log(`waiting up to ${graceMs} ms for ${this.running.size} running jobs`);
      await Promise.race([this.allFinished(), sleep(graceMs)]);
    }
    if (this.running.size > 0) {
      this.logger.warn(`releasing ${this.running.size} jobs still running after the grace period`);
      for (const runner of this.running.values()) runner.stop('shutdown');
      await this.allFinished();
    }
    for (const timer of this.timers) clearInterval(timer);
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    await this.writer.drain();
    await this.listener.stop();
    await this.notifier.drain();
    await this.executors
      .stop(this.id)
      .catch((error) => this.logger.warn(`could not deregister: ${String(error)}`));
    await this.deps.runtime.close();
    this.logger.log(`executor ${this.id} stopped`);
  }

  private allFinished(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  /**
   * One of CLAIM_LOOPS loops. Slots are reserved before a claim is sent, so the loops
   * together never claim more than the executor's free capacity.
   */
  /** The runtime said it cannot take attempts (see Runtime.readiness); claims wait. */
  private runtimeWaiting = false;

  private async claimLoop(): Promise<void> {
    const { options } = this.deps;
    let failures = 0;
    while (!this.stopping) {
      const free = options.concurrency - this.running.size - this.reserved;
      if (free <= 0) {
        this.full = true;
        await this.wakeup.wait(options.pollIntervalMs);
        continue;
      }
      this.full = false;
      const notReady = this.deps.runtime.readiness?.() ?? null;
      if (notReady !== null) {
        // Claiming now would only fail attempts (a cluster out of reach): wait for it.
        if (!this.runtimeWaiting) this.logger.warn(`not claiming jobs: ${notReady}`);
        this.runtimeWaiting = true;
        await sleep(Math.min(options.pollIntervalMs, 1000));
        continue;
      }
      if (this.runtimeWaiting) this.logger.log('the runtime is ready again; claiming jobs');
      this.runtimeWaiting = false;
      const limit = Math.min(options.batchSize, free);
      this.reserved += limit;
      let claimed: ClaimedJob[];
      const claimSentAt = performance.now();
      try {
        const endTimer = this.metrics.claimDuration.startTimer();
        claimed = await this.attempts.claim(
          options.instanceId,
          options.topics,
          limit,
          options.leaseMs,
        );
        endTimer();
        failures = 0;
      } catch (error) {
        failures++;
        const delay = Math.min(options.pollIntervalMs, 100 * 2 ** Math.min(failures, 10));
        this.logger.warn(`claim failed, retrying in ${delay} ms: ${String(error)}`);
        await sleep(delay);
        continue;
      } finally {
        this.reserved -= limit;
      }
      for (const job of claimed) this.run(job, claimSentAt);
      if (claimed.length === limit) {
        // A full batch: more is likely waiting, so bring in another loop to claim alongside.
        this.wakeup.poke();
      } else {
        await this.wakeup.wait(options.pollIntervalMs);
      }
    }
  }

  private run(job: ClaimedJob, claimSentAt: number): void {
    const labels = { topic: job.topic, task_class: job.taskClass };
    this.metrics.jobsClaimed.inc(labels);
    if (job.runtimeRef !== null) this.metrics.leaseTakeovers.inc();
    const runner = new JobRunner(
      job,
      this.deps.runtime,
      this.writer,
      {
        retryScheduled: (at) => this.wakeAt(at),
        envFor: (claimed) => this.environment.forAttempt(claimed),
        storedOutput: (adopted) => this.attempts.storedOutput(adopted.id, adopted.attempts),
        started: (startedAt) =>
          this.metrics.queueWait.observe(
            labels,
            Math.max(0, startedAt.getTime() - job.runAt.getTime()) / 1000,
          ),
        recorded: (finish) => this.countFinish(job, finish),
      },
      this.id,
      {
        leaseMs: this.deps.options.leaseMs,
        fenceMarginMs: this.deps.options.fenceMarginMs,
        claimSentAt,
      },
      { DANUBE_EXECUTOR_ID: this.id },
    );
    this.running.set(job.id, runner);
    this.metrics.running.set({ executor: this.id }, this.running.size);
    runner
      .run()
      .catch((error) =>
        this.logger.error({
          job_id: job.id,
          attempt: job.attempts,
          topic: job.topic,
          tenant: job.tenant,
          executor: this.id,
          msg: `job ${job.id}: ${String(error)}`,
        }),
      )
      .finally(() => {
        this.running.delete(job.id);
        this.metrics.running.set({ executor: this.id }, this.running.size);
        if (this.full) this.wakeup.poke();
        if (this.running.size === 0 && this.idle) {
          this.idle();
          this.idle = null;
        }
      });
  }

  private countFinish(job: ClaimedJob, finish: AttemptFinish): void {
    const labels = { topic: job.topic, task_class: job.taskClass };
    this.metrics.attemptsFinished.inc({ ...labels, outcome: finish.outcome });
    if (finish.startedAt) {
      this.metrics.runDuration.observe(
        { ...labels, outcome: finish.outcome },
        (finish.finishedAt.getTime() - finish.startedAt.getTime()) / 1000,
      );
    }
    if (finish.nextStatus === 'queued') {
      this.metrics.retries.inc({ ...labels, error_category: finish.errorCategory ?? 'infra' });
    } else {
      this.metrics.jobsFinished.inc({ ...labels, status: finish.nextStatus });
    }
  }

  /** Wakes the claim loop at `at`, keeping only the earliest pending wake-up. */
  private wakeAt(at: Date): void {
    const when = at.getTime();
    if (this.stopping || (this.retryTimer && this.retryTimer.at <= when)) return;
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    const timer = setTimeout(
      () => {
        this.retryTimer = null;
        this.wakeup.poke();
      },
      Math.max(0, when - Date.now()),
    );
    this.retryTimer = { at: when, timer };
  }

  private onNotification(channel: string, payload: string): void {
    if (channel === JOBS_CHANNEL) {
      const topics = this.deps.options.topics;
      if (topics === null || topics.includes(payload)) this.wakeup.poke();
    } else if (channel === CANCEL_CHANNEL) {
      this.running.get(payload)?.stop('cancelled');
    }
  }

  /**
   * Renews every lease this executor holds, with one statement; feeds the renewed attempts'
   * watchdogs; stops attempts whose lease another executor holds now or whose cancel was
   * asked.
   */
  private async heartbeat(): Promise<void> {
    const { options } = this.deps;
    const sentAt = performance.now();
    const ids = [...this.running.keys()];
    const renewals = await this.attempts.renewLeases(options.instanceId, ids, options.leaseMs);
    this.metrics.leaseRenewals.inc(renewals.filter((r) => r.renewed).length);
    const held = new Map(renewals.map((r) => [r.id, r]));
    for (const id of ids) {
      const runner = this.running.get(id);
      if (!runner) continue;
      const renewal = held.get(id);
      if (!renewal || renewal.leaseToken !== runner.job.leaseToken) {
        this.metrics.leasesLost.inc();
        runner.stop('lease_lost');
        continue;
      }
      // Not renewed: another session holds the row locked. Still ours; its fence stands.
      if (renewal.renewed) runner.leaseRenewed(sentAt);
      if (renewal.cancelRequested) runner.stop('cancelled');
    }
    await this.executors.heartbeat(options.instanceId, this.running.size);
  }

  /**
   * Stops attempts whose lease could not be renewed in time (Postgres out of reach, or this
   * process stalled), at the same moment their watchdogs kill them: before the lease ends
   * and another executor may take the job.
   */
  private guardLeases(): void {
    const now = performance.now();
    for (const runner of this.running.values()) {
      if (now >= runner.fenceAt) runner.stop('lease_expiring');
    }
  }

  private every(label: string, ms: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      task()
        .catch((error) => this.logger.warn(`${label} failed: ${String(error)}`))
        .finally(() => (busy = false));
    }, ms);
    this.timers.push(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
