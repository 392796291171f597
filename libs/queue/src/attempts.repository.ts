import { Injectable } from '@nestjs/common';
import { Repository, prepared } from '@danube/db';
import {
  LEASED_STATUSES,
  fromStatuses,
  type ClaimedJob,
  type JobStatus,
  type StoredOutput,
} from '@danube/core';
import * as sql from './attempts.sql';
import { toClaimedJob, type ClaimedRow } from './job-row';
import type { AttemptFinish, AttemptStart, BatchResult, LeaseRenewal, LogLine } from './records';
import type { TerminalJob } from './terminal-hook';

/** A job the reaper ended the lease of, with the status it moved to. */
export type ReapedJob = TerminalJob & { topic: string };

/** What an executor does in Postgres: the statements of attempts.sql.ts, one method each. */
@Injectable()
export class AttemptsRepository extends Repository {
  /**
   * Claims up to `limit` due jobs for `executorId`; `topics` null means every topic.
   * Returned in claim order.
   */
  async claim(
    executorId: string,
    topics: string[] | null,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedJob[]> {
    const wanted = topics ?? (await this.queuedTopics());
    if (wanted.length === 0) return [];
    const { rows } = await this.db.query<ClaimedRow>(
      prepared('claim_jobs', sql.CLAIM_JOBS, [wanted, executorId, limit, leaseMs]),
    );
    return rows
      .map(toClaimedJob)
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          a.runAt.getTime() - b.runAt.getTime() ||
          Number(BigInt(a.id) - BigInt(b.id)),
      );
  }

  /** Topics that have queued jobs (due or not). */
  async queuedTopics(): Promise<string[]> {
    const { rows } = await this.db.query<{ topic: string }>(
      prepared('queued_topics', sql.QUEUED_TOPICS, []),
    );
    return rows.map((r) => r.topic);
  }

  /** claimed -> running; returns the ids moved with whether each has a pending cancel. */
  async markRunning(
    starts: AttemptStart[],
    locking: sql.BatchLocking = 'plain',
  ): Promise<BatchResult<{ id: string; cancelRequested: boolean }>> {
    if (starts.length === 0) return { done: [], busy: [] };
    const { rows } = await this.db.query<{
      id: string;
      cancel_requested: boolean;
      busy: boolean;
    }>(
      prepared(`mark_jobs_running_${locking}`, sql.MARK_JOBS_RUNNING[locking], [
        starts.map((s) => s.id),
        starts.map((s) => s.leaseToken),
        starts.map((s) => s.startedAt),
        starts.map((s) => s.runtimeRef),
        fromStatuses('running'),
        starts.map((s) => s.adopted === true),
      ]),
    );
    return {
      done: rows
        .filter((r) => !r.busy)
        .map((r) => ({ id: r.id, cancelRequested: r.cancel_requested })),
      busy: rows.filter((r) => r.busy).map((r) => r.id),
    };
  }

  /**
   * Ends attempts and records their executions; returns the jobs whose lease still held,
   * with the status each moved to.
   */
  async finish(
    executorId: string,
    runtime: string,
    finishes: AttemptFinish[],
    locking: sql.BatchLocking = 'plain',
  ): Promise<BatchResult<TerminalJob>> {
    if (finishes.length === 0) return { done: [], busy: [] };
    const column = <T>(pick: (f: AttemptFinish) => T) => finishes.map(pick);
    const { rows } = await this.db.query<{
      id: string;
      status: JobStatus;
      workflow_id: string | null;
      parent_job_id: string | null;
      busy: boolean;
    }>(
      prepared(`finish_attempts_${locking}`, sql.FINISH_ATTEMPTS[locking], [
        column((f) => f.id),
        column((f) => f.leaseToken),
        column((f) => f.attempt),
        column((f) => f.nextStatus),
        column((f) => f.outcome),
        column((f) => f.retryAt),
        column((f) => f.errorCategory),
        column((f) => f.message),
        column((f) => f.exitCode),
        column((f) => f.stderrTail),
        column((f) =>
          f.result === undefined || f.result === null ? null : JSON.stringify(f.result),
        ),
        column((f) => f.runtimeRef),
        column((f) => f.startedAt),
        column((f) => f.finishedAt),
        executorId,
        runtime,
        [...LEASED_STATUSES],
        column((f) => f.adoptedFrom ?? null),
      ]),
    );
    return {
      done: rows
        .filter((r) => !r.busy)
        .map((r) => ({
          id: r.id,
          status: r.status,
          workflowId: r.workflow_id,
          parentJobId: r.parent_job_id,
        })),
      busy: rows.filter((r) => r.busy).map((r) => r.id),
    };
  }

  async renewLeases(
    executorId: string,
    jobIds: string[],
    leaseMs: number,
  ): Promise<LeaseRenewal[]> {
    if (jobIds.length === 0) return [];
    const { rows } = await this.db.query<{
      id: string;
      lease_token: string;
      cancel_requested: boolean;
      renewed: boolean;
    }>(
      prepared('renew_leases', sql.RENEW_LEASES, [
        executorId,
        leaseMs,
        [...LEASED_STATUSES],
        jobIds,
      ]),
    );
    return rows.map((r) => ({
      id: r.id,
      leaseToken: r.lease_token,
      cancelRequested: r.cancel_requested,
      renewed: r.renewed,
    }));
  }

  /** The reaper's lock, for the transaction this repository is bound to: false if another holds it. */
  async tryReaperLock(): Promise<boolean> {
    const { rows } = await this.db.query<{ locked: boolean }>(sql.TRY_REAPER_LOCK);
    return rows[0]?.locked === true;
  }

  /** Ends expired executors' sessions idle in a transaction for over `idleMs`; their names. */
  async endStalledExecutorSessions(idleMs: number): Promise<string[]> {
    const { rows } = await this.db.query<{ application_name: string }>(
      sql.END_STALLED_EXECUTOR_SESSIONS,
      [idleMs],
    );
    return rows.map((r) => r.application_name);
  }

  async reapExpiredLeases(limit = 1000): Promise<ReapedJob[]> {
    const { rows } = await this.db.query<{
      id: string;
      topic: string;
      status: JobStatus;
      workflow_id: string | null;
      parent_job_id: string | null;
    }>(sql.REAP_EXPIRED_LEASES, [limit]);
    return rows.map((r) => ({
      id: r.id,
      topic: r.topic,
      status: r.status,
      workflowId: r.workflow_id,
      parentJobId: r.parent_job_id,
    }));
  }

  /** Puts a running attempt back in the queue for adoption; the topic, or null if not held. */
  /** Why the running attempt waits to start, or null once it no longer does. */
  async setWaitingReason(id: string, leaseToken: string, reason: string | null): Promise<void> {
    await this.db.query(sql.SET_WAITING_REASON, [id, leaseToken, reason]);
  }

  async handOver(id: string, leaseToken: string): Promise<string | null> {
    const { rows } = await this.db.query<{ topic: string }>(sql.HAND_OVER_ATTEMPT, [
      id,
      leaseToken,
    ]);
    return rows[0]?.topic ?? null;
  }

  async insertLogLines(lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const payload = lines.map((l) => ({
      job_id: l.jobId,
      attempt: l.attempt,
      lease_token: l.leaseToken,
      stream: l.stream,
      line: l.line,
      logged_at: l.loggedAt.toISOString(),
    }));
    await this.db.query(sql.INSERT_LOG_LINES, [JSON.stringify(payload)]);
  }

  /** What is stored of an attempt's output (see SELECT_STORED_OUTPUT); null when nothing is. */
  async storedOutput(jobId: string, attempt: number): Promise<StoredOutput | null> {
    const { rows } = await this.db.query(sql.SELECT_STORED_OUTPUT, [jobId, attempt]);
    const row = rows[0];
    return row ? { lines: row.lines, upTo: row.up_to, linesAtUpTo: row.lines_at_up_to } : null;
  }
}
