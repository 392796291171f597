import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { Job } from '@danube/core';
import { toJob, type JobRow } from './job-row';
import type { JobInsert } from './records';
import * as sql from './steps.sql';

/** Steps, the child jobs of RunStep: the statements of steps.sql.ts. */
@Injectable()
export class StepsRepository extends Repository {
  /** Inserts a step of job `parentId`; null when its idempotency key already exists. */
  async insertStep(parentId: string, name: string | null, step: JobInsert): Promise<Job | null> {
    const { rows } = await this.db.query<JobRow>(sql.INSERT_STEP, [
      step.tenant,
      step.topic,
      step.task_class,
      step.priority,
      step.max_attempts,
      step.timeout_seconds,
      step.spec,
      step.labels,
      step.idempotency_key,
      parentId,
      name,
    ]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async attemptOutput(
    jobId: string,
    attempt: number,
  ): Promise<{ stream: 'stdout' | 'stderr' | 'combined'; line: string }[]> {
    const { rows } = await this.db.query(sql.SELECT_ATTEMPT_OUTPUT, [jobId, attempt]);
    return rows;
  }

  /** The ids among `ids` of jobs in a terminal status. */
  async ended(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ id: string }>(sql.SELECT_ENDED, [ids]);
    return rows.map((r) => r.id);
  }
}
