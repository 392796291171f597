import { Logger } from '@nestjs/common';
import {
  judgeAttempt,
  startFailure,
  stoppedOutcome,
  type ClaimedJob,
  type Outcome,
  type StopReason,
  type StoredOutput,
} from '@danube/core';
import type { AttemptFinish } from '@danube/queue';
import type { AttemptContext, LogStream, RunHandle, Runtime } from '@danube/runtime';
import { SecretMasker } from '@danube/secrets';
import type { AttemptWriter } from './attempt-writer';
import type { AttemptEnvironment } from './job-environment';

/** Log lines stored per attempt; past that, one line says the rest was cut. */
const MAX_LOG_LINES_PER_ATTEMPT = 10_000;

export interface RunnerHooks {
  /** A failed attempt will be retried at `at`: wake the claim loop then. */
  retryScheduled(at: Date): void;
  /** Variables this attempt gets beyond its own env (token, secrets, parents' results). */
  envFor(job: ClaimedJob): Promise<AttemptEnvironment>;
  /** What is stored of an attempt's output, for one that is adopted. */
  storedOutput(job: ClaimedJob): Promise<StoredOutput | null>;
  /** The attempt is running (metrics: queue wait). */
  started(startedAt: Date): void;
  /** The job's code started (see RunHandle.codeStarted), or the attempt ended before it did. */
  codeStarted(): void;
  /** The attempt's end was recorded (metrics: outcomes, durations, retries). */
  recorded(finish: AttemptFinish): void;
}

/** How the executor's lease on the job is kept; see ExecutorOptions. */
export interface LeaseTerms {
  leaseMs: number;
  fenceMarginMs: number;
  /** When the claim was sent (performance.now()): the lease runs at least leaseMs from then. */
  claimSentAt: number;
}

/**
 * Runs one claimed job's attempt from start (or adoption) to its recorded end, enforcing
 * its timeout. One instance per attempt; the executor keeps it while the attempt runs so
 * that heartbeats, cancels and shutdown can reach it.
 *
 * The lease: Postgres ends it leaseMs after the last renewal that reached it, on its own
 * clock. This executor only knows when it sent each renewal, which is no later than when
 * Postgres wrote it, so `fenceAt` (sent + leaseMs - fenceMarginMs) is always before the
 * lease can end. Past fenceAt without a renewal the attempt is stopped, here and by the
 * runtime's own watchdog (see RunHandle.fence), before any other executor can take the job.
 */
export class JobRunner {
  private readonly logger = new Logger(JobRunner.name);
  private handle: RunHandle | null = null;
  private stopReason: StopReason | null = null;
  /** The runtime's ref was stored before the attempt started (runtime.refFor). */
  private refStoredFirst = false;
  private logLines = 0;
  /** Masks the secret values given to the attempt in everything stored of its output. */
  private masker = new SecretMasker([]);
  /** The attempt must be dead by then unless the lease is renewed (performance.now() clock). */
  private fence: number;

  constructor(
    readonly job: ClaimedJob,
    private readonly runtime: Runtime,
    private readonly writer: AttemptWriter,
    private readonly hooks: RunnerHooks,
    private readonly executorId: string,
    private readonly lease: LeaseTerms,
    private readonly extraEnv: Record<string, string> = {},
  ) {
    this.fence = lease.claimSentAt + lease.leaseMs - lease.fenceMarginMs;
  }

  get attempt(): number {
    return this.job.attempts;
  }

  get fenceAt(): number {
    return this.fence;
  }

  /** The lease was renewed by a statement sent at `sentAt` (performance.now()). */
  leaseRenewed(sentAt: number): void {
    const fence = sentAt + this.lease.leaseMs - this.lease.fenceMarginMs;
    if (fence <= this.fence) return;
    this.fence = fence;
    this.handle?.fence?.(fence);
  }

  /** Stops the attempt if it is running; the first reason given wins. */
  stop(reason: StopReason): void {
    this.stopReason ??= reason;
    void this.handle?.stop(this.stopReason);
  }

  async run(): Promise<void> {
    const { job } = this;
    const context: AttemptContext = {
      job,
      attempt: this.attempt,
      env: this.extraEnv,
      onLog: (stream, line, writtenAt) => this.log(stream, line, writtenAt),
      onWaiting: (reason) => this.writer.waiting(job.id, job.leaseToken, reason),
      fenceAt: this.fence,
    };
    const startedAt = new Date();
    let handle: RunHandle | null;
    try {
      const { env, secretValues } = await this.hooks.envFor(job);
      context.env = { ...this.extraEnv, ...env };
      this.masker = new SecretMasker(secretValues);
      if (this.stopReason) {
        // Stopped before anything ran (lease lost while the environment was read).
        await this.record(startedAt, stoppedOutcome(this.stopReason, job.timeoutSeconds), null);
        return;
      }
      context.fenceAt = this.fence;
      if (!job.runtimeRef && this.runtime.refFor) {
        // Stored before the attempt starts: if this executor dies while starting it, the
        // next one adopts that attempt (creating it if need be) rather than starting another.
        const ref = this.runtime.refFor(context);
        const { held, cancelRequested } = await this.writer.start({
          id: job.id,
          leaseToken: job.leaseToken,
          startedAt,
          runtimeRef: ref,
        });
        if (!held) return;
        if (cancelRequested) {
          await this.record(startedAt, stoppedOutcome('cancelled', job.timeoutSeconds), ref);
          return;
        }
        job.runtimeRef = ref;
        job.startedAt = startedAt;
        this.refStoredFirst = true;
      }
      if (job.runtimeRef) {
        if (!this.refStoredFirst) {
          // Adopting: the output stored so far is not stored again, and counts to the cap.
          const stored = await this.hooks.storedOutput(job);
          context.storedLog = stored;
          this.logLines = stored?.lines ?? 0;
        }
        handle = await this.runtime.adopt(job.runtimeRef, context);
        if (!handle) {
          await this.record(
            job.startedAt ?? startedAt,
            {
              kind: 'failed',
              category: 'infra',
              message: `attempt ${this.attempt} was left behind by an executor that stopped, and the ${this.runtime.name} runtime cannot re-attach to it`,
            },
            job.runtimeRef,
            '',
            job.startedBy,
          );
          return;
        }
      } else {
        handle = await this.runtime.start(context);
      }
    } catch (error) {
      await this.record(startedAt, startFailure(error), job.runtimeRef);
      return;
    }
    this.handle = handle;
    // Renewals that arrived while the attempt was starting.
    handle.fence?.(this.fence);
    if (this.stopReason) void handle.stop(this.stopReason);
    const adopted = job.runtimeRef !== null && !this.refStoredFirst;
    if (!adopted) this.hooks.started(startedAt);
    this.logger.debug({
      ...this.logFields(),
      runtime_ref: handle.ref,
      msg: `job ${job.id} attempt ${this.attempt} ${adopted ? 'adopted' : 'started'}`,
    });

    if (!this.refStoredFirst) this.markRunning(handle, startedAt, adopted);
    // An adopted attempt started when the executor that started it says, and is timed from then.
    const runningSince = adopted && job.startedAt ? job.startedAt : startedAt;
    // The timeout counts from when the job's code starts: at once, or once its runtime says
    // so (a pod may wait for a node first, which costs no run time).
    let codeStartedAt: Date | null = null;
    let timer: NodeJS.Timeout | null = null;
    let ended = false;
    void (handle.codeStarted ?? Promise.resolve(runningSince)).then((at) => {
      if (ended) return;
      codeStartedAt = at;
      this.hooks.codeStarted();
      const timeoutMs = Math.max(0, at.getTime() + job.timeoutSeconds * 1000 - Date.now());
      timer = setTimeout(() => this.stop('timeout'), timeoutMs);
    });
    const outcome = await handle.wait();
    ended = true;
    if (timer) clearTimeout(timer);
    if (!codeStartedAt) this.hooks.codeStarted();
    if (this.stopReason === 'shutdown' && handle.keepsRunning) {
      await this.handOver();
      return;
    }
    if (this.stopReason === 'lease_expiring' && handle.keepsRunning) {
      // The attempt runs on; whoever takes the lease adopts it and records it.
      this.logger.warn({
        ...this.logFields(),
        msg: `job ${job.id} attempt ${this.attempt}: could not renew the lease; the attempt is left for another executor to adopt`,
      });
      return;
    }
    const recorded = await this.record(
      codeStartedAt ?? runningSince,
      outcome,
      handle.ref,
      this.redact(handle.stderrTail()),
      adopted ? job.startedBy : null,
      handle.codeEndedAt?.() ?? undefined,
    );
    if (recorded) await handle.cleanUp?.();
  }

  /**
   * claimed -> running; stops the attempt if the job is no longer ours. The runtime's ref
   * is stored on the job only for an attempt that runs on without this executor, as the
   * ref another executor adopts; a local process's ref goes only into the attempt's record.
   */
  private markRunning(handle: RunHandle, startedAt: Date, adopted: boolean): void {
    const { job } = this;
    void this.writer
      .start({
        id: job.id,
        leaseToken: job.leaseToken,
        startedAt: adopted && job.startedAt ? job.startedAt : startedAt,
        runtimeRef: handle.keepsRunning ? handle.ref : null,
        adopted,
      })
      .then(({ held, cancelRequested }) => {
        if (!held) this.stop('lease_lost');
        else if (cancelRequested) this.stop('cancelled');
      });
  }

  /** Shutting down with an attempt that runs on without us: the next executor adopts it. */
  private async handOver(): Promise<void> {
    const handedOver = await this.writer.handOver(this.job.id, this.job.leaseToken);
    this.logger.log({
      ...this.logFields(),
      msg: handedOver
        ? `job ${this.job.id} attempt ${this.attempt} keeps running; handed over for another executor to adopt`
        : `job ${this.job.id} attempt ${this.attempt} keeps running; its lease was already gone`,
    });
  }

  private async record(
    startedAt: Date,
    outcome: Outcome,
    runtimeRef: string | null,
    stderrTail = '',
    /** An adopted attempt: the executor that started it. */
    adoptedFrom: string | null = null,
    /** When the job's code ended, if the runtime knows (else now). */
    endedAt?: Date,
  ): Promise<boolean> {
    const { job } = this;
    if (this.stopReason === 'lease_lost') {
      this.logger.warn({
        ...this.logFields(),
        msg: `job ${job.id} attempt ${this.attempt}: lease taken over; its result is left to the new holder`,
      });
      return false;
    }
    const now = new Date();
    const finishedAt = endedAt && endedAt >= startedAt && endedAt <= now ? endedAt : now;
    const verdict = judgeAttempt(
      {
        attempts: this.attempt,
        maxAttempts: job.maxAttempts,
        backoff: job.spec.backoff,
        noRetryExitCodes: job.spec.noRetryExitCodes,
      },
      outcome,
      now,
      Math.random,
      this.stopReason,
    );
    const finish: AttemptFinish = {
      id: job.id,
      leaseToken: job.leaseToken,
      attempt: this.attempt,
      nextStatus: verdict.status,
      outcome: outcome.kind,
      retryAt: verdict.status === 'queued' ? verdict.retryAt : null,
      errorCategory: 'category' in verdict ? verdict.category : null,
      message: outcome.kind === 'succeeded' ? (outcome.warning ?? null) : outcome.message,
      exitCode: 'exitCode' in outcome ? (outcome.exitCode ?? null) : null,
      stderrTail: stderrTail === '' ? null : stderrTail,
      result: outcome.kind === 'succeeded' ? outcome.result : undefined,
      runtimeRef,
      startedAt,
      finishedAt,
      adoptedFrom,
    };
    const recorded = await this.writer.finish(finish);
    if (!recorded) {
      this.logger.warn({
        ...this.logFields(),
        msg: `job ${job.id} attempt ${this.attempt}: lease taken over before the result was recorded; result discarded`,
      });
    } else {
      const line = {
        ...this.logFields(),
        outcome: finish.outcome,
        next_status: finish.nextStatus,
        error_category: finish.errorCategory,
        exit_code: finish.exitCode,
        duration_ms: finishedAt.getTime() - startedAt.getTime(),
        msg: `job ${job.id} attempt ${this.attempt} ${finish.outcome}${finish.nextStatus === 'queued' ? ', will retry' : ''}${finish.message ? `: ${finish.message}` : ''}`,
      };
      // Every end is logged; failures where operators look by default.
      if (finish.outcome === 'succeeded') this.logger.debug(line);
      else this.logger.log(line);
      this.hooks.recorded(finish);
      if (verdict.status === 'queued' && verdict.retryAt)
        this.hooks.retryScheduled(verdict.retryAt);
    }
    return recorded;
  }

  private log(stream: LogStream, line: string, writtenAt = new Date()): void {
    this.logLines++;
    if (this.logLines > MAX_LOG_LINES_PER_ATTEMPT) {
      if (this.logLines === MAX_LOG_LINES_PER_ATTEMPT + 1) {
        this.writer.log({
          jobId: this.job.id,
          attempt: this.attempt,
          leaseToken: this.job.leaseToken,
          stream: 'system',
          line: `danube: log cut after ${MAX_LOG_LINES_PER_ATTEMPT} lines; the execution record keeps the stderr tail`,
          loggedAt: new Date(),
        });
      }
      return;
    }
    this.writer.log({
      jobId: this.job.id,
      attempt: this.attempt,
      leaseToken: this.job.leaseToken,
      stream,
      line: this.redact(line),
      loggedAt: writtenAt,
    });
  }

  /** The fields on every log line about this attempt. */
  private logFields() {
    return {
      job_id: this.job.id,
      attempt: this.attempt,
      topic: this.job.topic,
      tenant: this.job.tenant,
      executor: this.executorId,
    };
  }

  private redact(text: string): string {
    return this.masker.mask(text);
  }
}
