import { Injectable } from '@nestjs/common';
import { Repository, prepared } from '@danube/db';
import { LEASED_STATUSES, fromStatuses, type Job, type JobStatus } from '@danube/core';
import { toJob, type JobRow } from './job-row';
import * as sql from './jobs.sql';
import type { Execution, JobInsert, StoredLogLine } from './records';

/** Statuses a user's cancel moves straight to cancelled (nothing runs yet). */
const CANCEL_AT_ONCE: JobStatus[] = ['blocked', 'queued'];
/** Statuses where a cancel is a request the lease holder carries out. */
const CANCEL_BY_REQUEST: JobStatus[] = [...LEASED_STATUSES];

/** Jobs as the REST API and the JobService read and change them: the statements of jobs.sql.ts. */
@Injectable()
export class JobsRepository extends Repository {
  async insert(jobs: JobInsert[]): Promise<Job[]> {
    const { rows } = await this.db.query<JobRow>(
      prepared('insert_jobs', sql.INSERT_JOBS, [JSON.stringify(jobs)]),
    );
    return rows.map(toJob);
  }

  async findByIdempotencyKeys(tenant: string, keys: string[]): Promise<Job[]> {
    const { rows } = await this.db.query<JobRow>(sql.SELECT_JOBS_BY_IDEMPOTENCY_KEYS, [
      tenant,
      keys,
    ]);
    return rows.map(toJob);
  }

  /** `tenant` null: any tenant's (the server's own reads only; see SELECT_JOB). */
  async findById(tenant: string | null, id: string): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow>(sql.SELECT_JOB, [id, tenant]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async list(filter: {
    tenant: string;
    topic?: string;
    status?: JobStatus;
    before?: string;
    limit: number;
  }): Promise<Job[]> {
    const { rows } = await this.db.query<JobRow>(sql.LIST_JOBS, [
      filter.topic ?? null,
      filter.status ?? null,
      filter.before ?? null,
      filter.limit,
      filter.tenant,
    ]);
    return rows.map(toJob);
  }

  /** Whether any job was ever stored, in any tenant. */
  async any(): Promise<boolean> {
    const { rows } = await this.db.query<{ any: boolean }>(sql.ANY_JOB);
    return rows[0]!.any;
  }

  /** Cancels a job that has not started, or asks its lease holder to; null if not cancellable. */
  async cancel(tenant: string, id: string): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow>(sql.CANCEL_JOB, [
      id,
      CANCEL_AT_ONCE,
      CANCEL_BY_REQUEST,
      tenant,
    ]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  /** Queues a failed, timed-out, cancelled or skipped job again; null if not retryable. */
  async retry(tenant: string, id: string): Promise<Job | null> {
    const retryable = fromStatuses('queued').filter((s) => !LEASED_STATUSES.includes(s));
    const { rows } = await this.db.query<JobRow>(sql.RETRY_JOB, [id, retryable, tenant]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async executions(tenant: string, jobId: string): Promise<Execution[]> {
    const { rows } = await this.db.query(sql.SELECT_EXECUTIONS, [jobId, tenant]);
    return rows.map((r) => ({
      jobId: r.job_id,
      attempt: r.attempt,
      executorId: r.executor_id,
      runtime: r.runtime,
      runtimeRef: r.runtime_ref,
      outcome: r.outcome,
      errorCategory: r.error_category,
      message: r.message,
      exitCode: r.exit_code,
      stderrTail: r.stderr_tail,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      adoptedBy: r.adopted_by,
    }));
  }

  async logLines(
    tenant: string,
    jobId: string,
    afterId: string,
    limit: number,
  ): Promise<StoredLogLine[]> {
    const { rows } = await this.db.query(sql.SELECT_LOG_LINES, [jobId, afterId, limit, tenant]);
    return rows.map((r) => ({
      id: r.id,
      attempt: r.attempt,
      stream: r.stream,
      line: r.line,
      loggedAt: r.logged_at,
    }));
  }

  /** Sets what ReportStatus reports; false when attempt `attempt` is not running any more. */
  async reportStatus(
    jobId: string,
    attempt: number,
    report: { progress: number | null; message: string | null; resultJson: string | null },
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(sql.REPORT_STATUS, [
      jobId,
      attempt,
      report.progress,
      report.message,
      report.resultJson,
    ]);
    return rowCount === 1;
  }

  async countByTopic(
    tenant: string,
  ): Promise<{ topic: string; status: JobStatus; count: number }[]> {
    const { rows } = await this.db.query(sql.COUNT_BY_TOPIC, [tenant]);
    return rows;
  }

  /** Unfinished jobs by topic and status (the danube_queue_depth gauge). */
  async queueDepth(): Promise<{ topic: string; status: JobStatus; count: number }[]> {
    const { rows } = await this.db.query(sql.QUEUE_DEPTH);
    return rows;
  }
}
