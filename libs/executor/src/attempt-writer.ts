import { Logger } from '@nestjs/common';
import { isLockConflict, withTransaction } from '@danube/db';
import { isTerminal } from '@danube/core';
import {
  AttemptsRepository,
  type attemptsSql,
  type AttemptFinish,
  type AttemptStart,
  type LogLine,
  type TerminalHook,
} from '@danube/queue';
import type { Pool } from 'pg';

export interface StartResult {
  /** false: the job was no longer this executor's (lease taken over); stop the attempt. */
  held: boolean;
  cancelRequested: boolean;
}

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
}

/** Log lines kept in memory while the database cannot be written; older ones are dropped. */
const MAX_BUFFERED_LOG_LINES = 100_000;
/** Log lines alone wait this long to be written together with others. */
const LOG_FLUSH_DELAY_MS = 100;
const RETRY_DELAY_MAX_MS = 5000;
/** Starts and finishes of rows another session holds locked are tried again after this. */
const BUSY_RETRY_MS = 250;
/** After a write hit a lock timeout, writes skip locked rows for this long (see BatchLocking). */
const SKIP_LOCKED_FOR_MS = 30_000;

/**
 * Writes attempt starts, attempt ends and log lines in batches: everything that arrives
 * while one write is in flight goes into the next, as one transaction. On this kind of
 * disk a commit costs about as much as running a short job, so one commit per job would
 * cap the executor at a few hundred jobs a second; one commit per batch does not.
 * A start and an end of the same attempt in one batch collapse into the end alone.
 * Writes that fail (database down) are retried until they succeed; the lease token
 * guard makes a retried write that had in fact committed change nothing. When a batch
 * waits for a row another session holds locked until the connection's lock_timeout, the
 * writer switches to skipping locked rows for a while: their starts and ends wait for a
 * later batch (BUSY_RETRY_MS) instead of holding up the rest.
 */
export class AttemptWriter {
  private readonly logger = new Logger(AttemptWriter.name);
  private starts: Pending<AttemptStart, StartResult>[] = [];
  private finishes: Pending<AttemptFinish, boolean>[] = [];
  private logs: LogLine[] = [];
  private droppedLogLines = 0;
  private flushing: Promise<void> | null = null;
  private logTimer: NodeJS.Timeout | null = null;
  /** Starts and finishes of locked rows, waiting for BUSY_RETRY_MS to pass. */
  private busyStarts: Pending<AttemptStart, StartResult>[] = [];
  private busyFinishes: Pending<AttemptFinish, boolean>[] = [];
  private busyTimer: NodeJS.Timeout | null = null;
  /** Until when (Date.now()) batches skip locked rows; 0: they do not. */
  private skipLockedUntil = 0;
  private retryDelayMs = 100;

  constructor(
    private readonly pool: Pool,
    private readonly executorId: string,
    private readonly runtimeName: string,
    /** Runs in the same transaction as the finishes: releases workflow children. */
    private readonly terminalHook: TerminalHook | null = null,
    /** Topics that got newly queued jobs (released children), after the commit. */
    private readonly onQueued: (topics: string[]) => void = () => undefined,
  ) {}

  start(start: AttemptStart): Promise<StartResult> {
    return new Promise((resolve) => {
      this.starts.push({ item: start, resolve });
      this.flushSoon();
    });
  }

  /** Resolves true when the end was recorded, false when the lease had been taken over. */
  finish(finish: AttemptFinish): Promise<boolean> {
    return new Promise((resolve) => {
      this.finishes.push({ item: finish, resolve });
      this.flushSoon();
    });
  }

  /**
   * Says why a running attempt waits to start (null: it no longer waits), for /why. Seldom
   * (a pod's scheduling changes), so written at once; lost if Postgres is out of reach, as
   * it is only an explanation.
   */
  waiting(id: string, leaseToken: string, reason: string | null): void {
    AttemptsRepository.on(this.pool)
      .setWaitingReason(id, leaseToken, reason)
      .catch((error: unknown) =>
        this.logger.warn(`could not record why job ${id} waits: ${String(error)}`),
      );
  }

  /** Lets go of a running attempt that outlives this executor (see HAND_OVER_ATTEMPT). */
  async handOver(id: string, leaseToken: string): Promise<boolean> {
    await this.drain();
    const topic = await AttemptsRepository.on(this.pool).handOver(id, leaseToken);
    if (topic) this.onQueued([topic]);
    return topic !== null;
  }

  log(line: LogLine): void {
    if (this.logs.length >= MAX_BUFFERED_LOG_LINES) {
      this.logs.shift();
      this.droppedLogLines++;
    }
    this.logs.push(line);
    this.logTimer ??= setTimeout(() => {
      this.logTimer = null;
      this.flushSoon();
    }, LOG_FLUSH_DELAY_MS);
  }

  /** Resolves once everything handed in so far is written. */
  async drain(): Promise<void> {
    if (this.logTimer) {
      clearTimeout(this.logTimer);
      this.logTimer = null;
    }
    for (;;) {
      this.flushSoon();
      while (this.flushing) await this.flushing;
      if (this.busyStarts.length === 0 && this.busyFinishes.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
      this.retryBusy();
    }
  }

  /** Puts the writes of locked rows back in line for the next batch. */
  private retryBusy(): void {
    if (this.busyTimer) clearTimeout(this.busyTimer);
    this.busyTimer = null;
    this.starts.push(...this.busyStarts);
    this.finishes.push(...this.busyFinishes);
    this.busyStarts = [];
    this.busyFinishes = [];
    this.flushSoon();
  }

  private locking(): attemptsSql.BatchLocking {
    return Date.now() < this.skipLockedUntil ? 'skipLocked' : 'plain';
  }

  private flushSoon(): void {
    // The flag is cleared in a callback, never inside flushAll: a flushAll that finds
    // nothing to do returns synchronously, before the assignment would take effect.
    this.flushing ??= this.flushAll().finally(() => (this.flushing = null));
  }

  private async flushAll(): Promise<void> {
    while (this.starts.length > 0 || this.finishes.length > 0 || this.logs.length > 0) {
      const starts = this.starts;
      const finishes = this.finishes;
      const logs = this.logs;
      this.starts = [];
      this.finishes = [];
      this.logs = [];
      try {
        await this.write(starts, finishes, logs);
        this.retryDelayMs = 100;
      } catch (error) {
        this.starts = starts.concat(this.starts);
        this.finishes = finishes.concat(this.finishes);
        this.logs = logs.concat(this.logs);
        if (isLockConflict(error) && this.locking() === 'plain') {
          this.logger.warn(
            `a job row is locked by another database session; skipping locked rows for the next ${SKIP_LOCKED_FOR_MS / 1000} s`,
          );
          this.skipLockedUntil = Date.now() + SKIP_LOCKED_FOR_MS;
          continue;
        }
        this.logger.warn(
          `could not record attempts, retrying in ${this.retryDelayMs} ms: ${String(error)}`,
        );
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_DELAY_MAX_MS);
      }
    }
  }

  private async write(
    starts: Pending<AttemptStart, StartResult>[],
    finishes: Pending<AttemptFinish, boolean>[],
    logs: LogLine[],
  ): Promise<void> {
    const finishing = new Set(finishes.map((f) => f.item.id));
    const startsToWrite = starts.filter((s) => !finishing.has(s.item.id));
    if (this.droppedLogLines > 0 && logs.length > 0) {
      logs.unshift({
        ...logs[0]!,
        stream: 'system',
        line: `danube: ${this.droppedLogLines} log lines were dropped while the database was unreachable`,
      });
      this.droppedLogLines = 0;
    }
    const locking = this.locking();
    const { started, finished, queuedTopics } = await withTransaction(this.pool, async (client) => {
      const repo = AttemptsRepository.on(client);
      // Logs first, so that a job seen finished already has all its lines.
      if (logs.length > 0) await repo.insertLogLines(logs);
      const started = await repo.markRunning(
        startsToWrite.map((s) => s.item),
        locking,
      );
      const finished = await repo.finish(
        this.executorId,
        this.runtimeName,
        finishes.map((f) => f.item),
        locking,
      );
      const ended = finished.done.filter(
        (job) => job.workflowId !== null && isTerminal(job.status),
      );
      const { queuedTopics } =
        ended.length > 0 && this.terminalHook
          ? await this.terminalHook.afterTerminal(client, ended)
          : { queuedTopics: [] };
      return { started, finished, queuedTopics };
    });
    if (queuedTopics.length > 0) this.onQueued(queuedTopics);

    const startedRows = new Map(started.done.map((row) => [row.id, row]));
    const busyStarts = new Set(started.busy);
    for (const s of starts) {
      if (finishing.has(s.item.id)) {
        s.resolve({ held: true, cancelRequested: false });
      } else if (busyStarts.has(s.item.id)) {
        this.busyStarts.push(s);
      } else {
        const row = startedRows.get(s.item.id);
        s.resolve({ held: row !== undefined, cancelRequested: row?.cancelRequested ?? false });
      }
    }
    const finishedIds = new Set(finished.done.map((job) => job.id));
    const busyFinishes = new Set(finished.busy);
    for (const f of finishes) {
      if (busyFinishes.has(f.item.id)) this.busyFinishes.push(f);
      else f.resolve(finishedIds.has(f.item.id));
    }
    if (busyStarts.size + busyFinishes.size > 0) {
      this.logger.warn(
        `${busyStarts.size + busyFinishes.size} jobs are locked by another database session; writing them again in ${BUSY_RETRY_MS} ms`,
      );
      this.busyTimer ??= setTimeout(() => this.retryBusy(), BUSY_RETRY_MS);
    }
  }
}
