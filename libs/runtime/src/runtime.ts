import type { ClaimedJob, Outcome, StopReason, StoredLogPosition } from '@danube/core';

export { stoppedOutcome, type StopReason } from '@danube/core';

/** 'combined': stdout and stderr as one stream, where the runtime cannot tell them apart. */
export type LogStream = 'stdout' | 'stderr' | 'combined';

export interface AttemptContext {
  job: ClaimedJob;
  attempt: number;
  /** Variables the executor adds to the job's own env (DANUBE_JOB_ID, DANUBE_JOB_TOKEN, ...). */
  env: Record<string, string>;
  /**
   * An adopted attempt's output that is stored already. A runtime that can read the
   * attempt's output from its start (a Kubernetes pod's log) passes on only what follows.
   */
  storedLog?: StoredLogPosition | null;
  /**
   * Receives the attempt's output line by line, as it is written; `writtenAt` when the
   * runtime knows when the line was written (else the time it arrives is used).
   */
  onLog(stream: LogStream, line: string, writtenAt?: Date): void;
  /**
   * The attempt's code waits to start, and why in words (a pod the scheduler cannot place
   * yet), or no longer does (null). For GET /v1/jobs/:id/why.
   */
  onWaiting?(reason: string | null): void;
  /**
   * When the attempt must be dead unless the lease is renewed (performance.now() clock):
   * the executor's lease minus a margin. See RunHandle.fence.
   */
  fenceAt?: number;
}

/** One running attempt. */
export interface RunHandle {
  /** Where the attempt runs, stored on the job so another executor can adopt it; null if nowhere. */
  readonly ref: string | null;
  /** The attempt's outcome once it has ended; never rejects. */
  wait(): Promise<Outcome>;
  /** Ends the attempt; wait() then resolves with the outcome that `reason` implies. */
  stop(reason: StopReason): Promise<void>;
  /** The last bytes the attempt wrote to stderr, for the execution record. */
  stderrTail(): string;
  /**
   * For a runtime where an attempt can wait before the job's code starts (a pod waiting
   * for a node): resolves with when it started, never earlier; never if the attempt ends
   * first. The timeout counts from then, and the attempt's record starts then. Without
   * it, the code starts with the attempt.
   */
  readonly codeStarted?: Promise<Date>;
  /**
   * When the job's code ended, where the runtime knows better than the moment wait()
   * resolved (a pod that ended while no executor followed it): the record ends then.
   */
  codeEndedAt?(): Date | null;
  /**
   * true: the attempt runs on without this executor (a Kubernetes Job), so stopping it for
   * a shutdown or a lost lease only lets go of it, for another executor to adopt.
   */
  readonly keepsRunning?: boolean;
  /**
   * The lease was renewed: the attempt may run until `at` (performance.now() clock). A
   * runtime whose attempts die with the executor enforces this outside the executor's
   * event loop, so that an executor that is paused or cut off from Postgres cannot let an
   * attempt run on after another executor has taken the job.
   */
  fence?(at: number): void;
  /** Called once the attempt's end is recorded: deletes what it leaves behind (its Job). */
  cleanUp?(): Promise<void>;
}

/** Something that runs attempts: a local process, a Kubernetes Job, or nothing at all. */
export interface Runtime {
  readonly name: string;
  /**
   * Where the attempt will run, known before it starts (a Job's name is fixed by job and
   * attempt). The executor stores it first, so an executor that dies while starting the
   * attempt leaves a reference that its successor adopts instead of starting a second run.
   */
  refFor?(context: AttemptContext): string;
  /** Starts the attempt; idempotent per (job, attempt). */
  start(context: AttemptContext): Promise<RunHandle>;
  /** Re-attaches to an attempt started by an executor that is gone; null if it cannot. */
  adopt(ref: string, context: AttemptContext): Promise<RunHandle | null>;
  /**
   * How many of the executor's attempts may wait for their code to start at once (see
   * RunHandle.codeStarted); the executor claims no more until one starts. None: no bound.
   */
  readonly maxWaitingAttempts?: number;
  /** Why the runtime cannot take attempts now (its cluster unreachable), or null: readiness. */
  readiness?(): string | null;
  /** Releases what the runtime holds (watches, clients); running attempts are not touched. */
  close(): Promise<void>;
}

export const RUNTIME = Symbol('RUNTIME');
