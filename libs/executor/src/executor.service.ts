import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import {
  CANCEL_CHANNEL,
  JOBS_CHANNEL,
  Listener,
  Notifier,
  type AttemptsRepository,
  type ExecutorsRepository,
} from '@danube/queue';
import type { ClaimedJob } from '@danube/core';
import type { DanubeMetrics } from '@danube/observability';
import { WorkflowRelease } from '@danube/dag';
import type { Runtime } from '@danube/runtime';
import type { Pool } from 'pg';
import { AttemptWriter } from './attempt-writer';
import { ClaimLoop, type ClaimLoopMode } from './claim-loop';
import type { ExecutorOptions } from './executor.config';
import { ExecutorMetrics } from './executor.metrics';
import type { JobEnvironment } from './job-environment';
import { JobRunner } from './job-runner';
import { LeaseKeeper } from './lease-keeper';
import { Reaper } from './reaper';

const VERSION = process.env.npm_package_version ?? '0.1.0';
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
  /** Told of every change of a claim loop's mode (tests). */
  onClaimMode?: (loop: number, mode: ClaimLoopMode) => void;
}

/**
 * One executor process's work, put together: the claim loops (claim-loop.ts) start a
 * JobRunner per claimed job; the attempt writer records their starts, ends and logs in
 * batches; the lease keeper renews and guards their leases; the reaper ends other
 * executors' expired leases; NOTIFYs wake the claim loops and cancel attempts. On stop it
 * finishes or hands back what it holds.
 */
export class ExecutorService {
  private readonly logger = new Logger('Executor');
  private readonly metrics: ExecutorMetrics;
  private readonly writer: AttemptWriter;
  private readonly release = new WorkflowRelease();
  private readonly notifier: Notifier;
  private readonly listener: Listener;
  private readonly claims: ClaimLoop;
  private readonly leases: LeaseKeeper;
  private readonly reaper: Reaper;
  private readonly running = new Map<string, JobRunner>();
  /** Jobs whose code has not started yet (a pod waiting for a node); see maxWaitingAttempts. */
  private readonly waiting = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private retryTimer: { at: number; timer: NodeJS.Timeout } | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private idle: (() => void) | null = null;

  constructor(private readonly deps: ExecutorDeps) {
    const { pool, options, runtime } = deps;
    this.metrics = new ExecutorMetrics(deps.metrics, options.instanceId);
    this.notifier = new Notifier(pool, (error) =>
      this.logger.warn(`NOTIFY failed: ${String(error)}`),
    );
    const notifyQueued = (topics: Iterable<string>) => this.notifier.notify(JOBS_CHANNEL, topics);
    this.writer = new AttemptWriter(
      pool,
      options.instanceId,
      runtime.name,
      this.release,
      notifyQueued,
    );
    this.reaper = new Reaper(pool, this.release, notifyQueued, options.pruneExecutorsAfterMs);
    this.leases = new LeaseKeeper(
      options.instanceId,
      options.leaseMs,
      this.running,
      deps.attempts,
      deps.executors,
      this.metrics,
      () => this.waiting.size,
    );
    this.claims = new ClaimLoop(
      {
        freeSlots: () =>
          Math.min(
            options.concurrency - this.running.size,
            (runtime.maxWaitingAttempts ?? Infinity) - this.waiting.size,
          ),
        runtimeProblem: () => runtime.readiness?.() ?? null,
        claim: (limit) => this.claim(limit),
        run: (jobs, sentAt) => jobs.forEach((job) => this.run(job, sentAt)),
      },
      { batchSize: options.batchSize, pollIntervalMs: options.pollIntervalMs, loops: CLAIM_LOOPS },
      deps.onClaimMode,
    );
    this.listener = new Listener(deps.databaseUrl, [JOBS_CHANNEL, CANCEL_CHANNEL], {
      onNotification: (channel, payload) => this.onNotification(channel, payload),
      onConnected: () => this.claims.poke(),
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
    await this.deps.executors.register({
      id: options.instanceId,
      topics: options.topics ?? ['ALL'],
      host: hostname(),
      pid: process.pid,
      version: VERSION,
      runtime: runtime.name,
      capacity: options.concurrency,
      leaseMs: options.leaseMs,
      maxWaiting: runtime.maxWaitingAttempts ?? null,
    });
    await this.listener.start();
    this.every('heartbeat', options.heartbeatMs, () => this.leases.heartbeat());
    this.every('lease guard', Math.min(250, options.heartbeatMs), async () => this.leases.guard());
    this.every('reaper', options.reapIntervalMs, () => this.reaper.reap());
    this.claims.start();
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
    await this.claims.stop();
    if (this.running.size > 0) {
      this.logger.log(`waiting up to ${graceMs} ms for ${this.running.size} running jobs`);
      await Promise.race([this.allFinished(), sleep(graceMs)]);
    }
    if (this.running.size > 0) {
      this.logger.warn(
        `handing back ${this.running.size} jobs still running after the grace period`,
      );
      for (const runner of this.running.values()) runner.stop('shutdown');
      await this.allFinished();
    }
    for (const timer of this.timers) clearInterval(timer);
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    await this.writer.drain();
    await this.listener.stop();
    await this.notifier.drain();
    await this.deps.executors
      .stop(this.id)
      .catch((error) => this.logger.warn(`could not deregister: ${String(error)}`));
    await this.deps.runtime.close();
    this.logger.log(`executor ${this.id} stopped`);
  }

  private allFinished(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  private async claim(limit: number): Promise<{ jobs: ClaimedJob[]; sentAt: number }> {
    const { options } = this.deps;
    const sentAt = performance.now();
    const endTimer = this.metrics.claimTimer();
    const jobs = await this.deps.attempts.claim(
      options.instanceId,
      options.topics,
      limit,
      options.leaseMs,
    );
    endTimer();
    return { jobs, sentAt };
  }

  private run(job: ClaimedJob, claimSentAt: number): void {
    const { options } = this.deps;
    this.metrics.claimed(job);
    const runner = new JobRunner(
      job,
      this.deps.runtime,
      this.writer,
      {
        retryScheduled: (at) => this.wakeAt(at),
        envFor: (claimed) => this.deps.environment.forAttempt(claimed),
        storedOutput: (adopted) => this.deps.attempts.storedOutput(adopted.id, adopted.attempts),
        started: (startedAt) => this.metrics.started(job, startedAt),
        codeStarted: () => {
          if (this.waiting.delete(job.id)) this.claims.slotFreed();
        },
        recorded: (finish) => this.metrics.recorded(job, finish),
      },
      this.id,
      { leaseMs: options.leaseMs, fenceMarginMs: options.fenceMarginMs, claimSentAt },
      { DANUBE_EXECUTOR_ID: this.id },
    );
    this.running.set(job.id, runner);
    this.waiting.add(job.id);
    this.metrics.running(this.running.size);
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
        this.waiting.delete(job.id);
        this.metrics.running(this.running.size);
        this.claims.slotFreed();
        if (this.running.size === 0 && this.idle) {
          this.idle();
          this.idle = null;
        }
      });
  }

  /** Wakes a claim loop at `at` (a retry coming due), keeping only the earliest pending wake-up. */
  private wakeAt(at: Date): void {
    const when = at.getTime();
    if (this.stopping || (this.retryTimer && this.retryTimer.at <= when)) return;
    if (this.retryTimer) clearTimeout(this.retryTimer.timer);
    const timer = setTimeout(
      () => {
        this.retryTimer = null;
        this.claims.poke();
      },
      Math.max(0, when - Date.now()),
    );
    this.retryTimer = { at: when, timer };
  }

  private onNotification(channel: string, payload: string): void {
    if (channel === JOBS_CHANNEL) {
      const topics = this.deps.options.topics;
      if (topics === null || topics.includes(payload)) this.claims.poke();
    } else if (channel === CANCEL_CHANNEL) {
      this.running.get(payload)?.stop('cancelled');
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
