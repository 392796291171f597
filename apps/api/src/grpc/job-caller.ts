import { Inject, Injectable } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { DanubeError, InvalidArgumentError, isId, type Job } from '@danube/core';
import { isApiKey } from '@danube/auth';
import { JobsService } from '@danube/queue';
import { JobTokens, SECRET_KEY_HELP } from '@danube/secrets';

/** The running attempt a JobService call was made by, once its token checked out. */
export interface JobCaller {
  job: Job;
  attempt: number;
}

/**
 * Checks every JobService call, in this order: a valid token (UNAUTHENTICATED), a
 * well-formed job id (INVALID_ARGUMENT), a job that exists (NOT_FOUND), the token's own
 * job (PERMISSION_DENIED), and that job running the token's attempt now
 * (FAILED_PRECONDITION): a token stops working when its attempt ends. An attempt that runs
 * on without its executor (a Kubernetes Job whose executor died or shut down) is still
 * live while the job waits in the queue for another executor to adopt it: its pod may
 * finish, and upload its outputs, before that happens.
 */
@Injectable()
export class JobCallerAuth {
  constructor(
    @Inject(JobTokens) private readonly tokens: JobTokens | null,
    private readonly jobs: JobsService,
  ) {}

  async authorize(metadata: Metadata, jobId: string): Promise<JobCaller> {
    const claims = this.verifyToken(metadata);
    if (!isId(jobId)) {
      throw new InvalidArgumentError(
        `job_id ${JSON.stringify(jobId)} is not a job id; send DANUBE_JOB_ID`,
        { field: 'job_id' },
      );
    }
    const job = await this.jobs.get(null, jobId);
    if (claims.jobId !== jobId) {
      throw new DanubeError(
        'permission_denied',
        `the job token belongs to job ${claims.jobId}, not job ${jobId}; a job acts only for itself`,
      );
    }
    const awaitingAdoption = job.status === 'queued' && job.runtimeRef !== null;
    if (job.status !== 'claimed' && job.status !== 'running' && !awaitingAdoption) {
      throw new DanubeError(
        'failed_precondition',
        `job ${jobId} is ${job.status}, not running: the token of its attempt ${claims.attempt} no longer works`,
      );
    }
    if (job.attempts !== claims.attempt) {
      throw new DanubeError(
        'failed_precondition',
        `job ${jobId} is on attempt ${job.attempts}: the token of attempt ${claims.attempt} no longer works`,
      );
    }
    return { job, attempt: claims.attempt };
  }

  private verifyToken(metadata: Metadata) {
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      throw new DanubeError(
        'unauthenticated',
        'no job token: send DANUBE_JOB_TOKEN as the metadata entry "authorization: Bearer <token>"',
      );
    }
    const token = header.slice('Bearer '.length).trim();
    if (isApiKey(token)) {
      throw new DanubeError(
        'unauthenticated',
        'an API key is not a job token: the JobService is called by running jobs, with their DANUBE_JOB_TOKEN',
      );
    }
    if (!this.tokens) {
      throw new DanubeError(
        'failed_precondition',
        `this server cannot check job tokens: it has no DANUBE_SECRET_KEY. ${SECRET_KEY_HELP}`,
      );
    }
    return this.tokens.verify(token);
  }
}
