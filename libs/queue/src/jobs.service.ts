import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectPool, withTransaction, type Queryable } from '@danube/db';
import { TenantsService } from '@danube/auth';
import { DanubeMetrics } from '@danube/observability';
import type { Pool } from 'pg';
import {
  DEFAULT_BACKOFF,
  DEFAULT_MAX_ATTEMPTS,
  DanubeError,
  MAX_RESULT_BYTES,
  NAME_PATTERN,
  NAME_RULE,
  InvalidTransitionError,
  NotFoundError,
  SECRET_NAME_PATTERN,
  SECRET_NAME_RULE,
  TASK_CLASS_LIMITS,
  isTerminal,
  resourceHintsProblem,
  type Job,
  type JobStatus,
  type NewJob,
} from '@danube/core';
import { JobsRepository } from './jobs.repository';
import type { Execution, JobInsert, StoredLogLine } from './records';
import { CANCEL_CHANNEL, JOBS_CHANNEL, Notifier } from './notifications';
import { UnprocessableJobError, invalidField } from './queue.errors';
import type { TerminalHook } from './terminal-hook';

export const QUEUE_OPTIONS = Symbol('QUEUE_OPTIONS');
/** Optional: what must happen when a job ends (workflows release or skip its children). */
export const TERMINAL_HOOK = Symbol('TERMINAL_HOOK');

export interface QueueOptions {
  /**
   * Whether gpu_slurm jobs are accepted: only when some executor runs them (the kubernetes
   * runtime with taskClasses.gpu_slurm configured; there is no Slurm runtime of its own).
   */
  acceptGpuSlurm: boolean;
  /** The largest batch POST /v1/jobs/batch accepts. */
  maxBatchSize: number;
}

export interface EnqueueResult {
  job: Job;
  /** false when an idempotency key matched an existing job, which is returned instead. */
  created: boolean;
}

/** The longest message ReportStatus stores. */
const MAX_STATUS_MESSAGE_LENGTH = 1000;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The queue as users see it: enqueue, read, cancel and retry jobs. */
@Injectable()
export class JobsService {
  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly jobs: JobsRepository,
    private readonly notifier: Notifier,
    @Inject(QUEUE_OPTIONS) private readonly options: QueueOptions,
    @Optional() @Inject(TERMINAL_HOOK) private readonly terminalHook: TerminalHook | null = null,
    @Optional() @Inject(DanubeMetrics) private readonly metrics: DanubeMetrics | null = null,
    @Optional() @Inject(TenantsService) private readonly tenants: TenantsService | null = null,
  ) {}

  async enqueue(job: NewJob): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany([job], '');
    return result!;
  }

  /**
   * Stores all the jobs in one statement, all or nothing. `fieldPrefix` names the jobs in
   * error messages (`jobs[3].`), so a client can tell which one was refused.
   */
  async enqueueMany(newJobs: NewJob[], fieldPrefix = 'jobs'): Promise<EnqueueResult[]> {
    if (newJobs.length > this.options.maxBatchSize) {
      throw invalidField(
        fieldPrefix || 'jobs',
        `has ${newJobs.length} jobs; at most ${this.options.maxBatchSize} go in one batch`,
      );
    }
    const inserts = newJobs.map((job, i) =>
      this.prepare(job, fieldPrefix ? `${fieldPrefix}[${i}].` : ''),
    );
    const inserted = inserts.length > 0 ? await this.store(inserts, fieldPrefix) : [];

    const results = this.matchInserted(inserts, inserted);
    const missing = results.flatMap((r, i) => (r ? [] : [i]));
    if (missing.length > 0) {
      const byTenant = new Map<string, string[]>();
      for (const i of missing) {
        const { tenant, idempotency_key } = inserts[i]!;
        byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), idempotency_key!]);
      }
      const existing = new Map<string, Job>();
      for (const [tenant, keys] of byTenant) {
        for (const job of await this.jobs.findByIdempotencyKeys(tenant, keys)) {
          existing.set(`${tenant}\u0000${job.idempotencyKey}`, job);
        }
      }
      for (const i of missing) {
        const job = existing.get(`${inserts[i]!.tenant}\u0000${inserts[i]!.idempotency_key}`);
        if (!job)
          throw new Error(`job with idempotency key ${inserts[i]!.idempotency_key} vanished`);
        results[i] = { job, created: false };
      }
    }

    this.announce(inserted);
    return results as EnqueueResult[];
  }

  /**
   * Stores jobs inside the caller's transaction, admitted against their tenants' limits
   * (for a caller whose own rows must commit with them: a schedule's fire). A job whose
   * idempotency key is taken is not stored and not returned. After the commit, the caller
   * passes what was stored to announce().
   */
  async storeWithin(client: Queryable, newJobs: NewJob[], field: string): Promise<Job[]> {
    const inserts = newJobs.map((job) => this.prepare(job, field));
    await this.tenants?.admit(client, inserts, () => field);
    return JobsRepository.on(client).insert(inserts);
  }

  /** Counts newly stored jobs and wakes the executors of the topics now due. */
  announce(jobs: Job[]): void {
    this.countEnqueued(jobs);
    const dueTopics = new Set(
      jobs.filter((j) => j.runAt.getTime() <= Date.now()).map((j) => j.topic),
    );
    if (dueTopics.size > 0) this.notifier.notify(JOBS_CHANNEL, dueTopics);
  }

  /** Counts newly stored jobs into danube_jobs_enqueued_total (workflows and steps call it too). */
  countEnqueued(jobs: { topic: string; taskClass: string }[]): void {
    for (const job of jobs) {
      this.metrics?.jobsEnqueued.inc({ topic: job.topic, task_class: job.taskClass });
    }
  }

  /**
   * Admits the jobs against their tenants' limits (TenantsService.admit) and stores them,
   * in one transaction when a tenant's queued-jobs cap must hold while they are stored.
   */
  private async store(inserts: JobInsert[], fieldPrefix: string): Promise<Job[]> {
    const field = (i: number) => (fieldPrefix ? `${fieldPrefix}[${i}].` : '');
    if (!this.tenants) return this.jobs.insert(inserts);
    return withTransaction(this.pool, async (client) => {
      await this.tenants!.admit(client, inserts, field);
      return JobsRepository.on(client).insert(inserts);
    });
  }

  /**
   * A job of `tenant`; NotFoundError when there is none, also when another tenant has one
   * with that id. `tenant` null reads any tenant's: for the server's own use only (the
   * JobService, which found the job by its token).
   */
  async get(tenant: string | null, id: string): Promise<Job> {
    const job = await this.jobs.findById(tenant, id);
    if (!job) throw new NotFoundError('job', id);
    return job;
  }

  list(filter: {
    tenant: string;
    topic?: string;
    status?: JobStatus;
    before?: string;
    limit: number;
  }): Promise<Job[]> {
    return this.jobs.list(filter);
  }

  /** Whether any job was ever stored, in any tenant. */
  anyStored(): Promise<boolean> {
    return this.jobs.any();
  }

  /** Cancels a job that has not started; asks the executor running it to stop it. */
  async cancel(tenant: string, id: string): Promise<Job> {
    const { job, queuedTopics } = await withTransaction(this.pool, async (client) => {
      const job = await JobsRepository.on(client).cancel(tenant, id);
      if (job?.status === 'cancelled' && job.workflowId !== null && this.terminalHook) {
        const { queuedTopics } = await this.terminalHook.afterTerminal(client, [job]);
        return { job, queuedTopics };
      }
      return { job, queuedTopics: [] };
    });
    if (!job) {
      const current = await this.get(tenant, id);
      throw new InvalidTransitionError(id, current.status, 'cancelled');
    }
    if (!isTerminal(job.status)) this.notifier.notify(CANCEL_CHANNEL, [job.id]);
    if (queuedTopics.length > 0) this.notifier.notify(JOBS_CHANNEL, queuedTopics);
    return job;
  }

  /** Queues a failed, timed-out, cancelled or skipped job again with a fresh set of attempts. */
  async retry(tenant: string, id: string): Promise<Job> {
    const current = await this.get(tenant, id);
    if (current.workflowId !== null) {
      throw new DanubeError(
        'conflict',
        `job ${id} is node "${current.nodeName}" of workflow ${current.workflowId}; retry the workflow (POST /v1/workflows/${current.workflowId}/retry), which re-runs its failed and skipped nodes`,
      );
    }
    const job = await this.jobs.retry(tenant, id);
    if (!job) throw new InvalidTransitionError(id, (await this.get(tenant, id)).status, 'queued');
    this.notifier.notify(JOBS_CHANNEL, [job.topic]);
    return job;
  }

  /**
   * What a running attempt reports through the JobService (ReportStatus): progress 0-100,
   * a message, a result (JSON, at most MAX_RESULT_BYTES). Empty values leave the stored
   * ones as they are.
   */
  async reportStatus(
    jobId: string,
    attempt: number,
    report: { progress: number | null; message: string; resultJson: string },
  ): Promise<void> {
    const { progress } = report;
    if (progress !== null && (progress < 0 || progress > 100)) {
      throw invalidField('progress', `must be 0-100, not ${progress}`);
    }
    if (report.message.length > MAX_STATUS_MESSAGE_LENGTH) {
      throw invalidField('message', `is longer than ${MAX_STATUS_MESSAGE_LENGTH} characters`);
    }
    let resultJson: string | null = null;
    if (report.resultJson !== '') {
      if (Buffer.byteLength(report.resultJson, 'utf8') > MAX_RESULT_BYTES) {
        throw new DanubeError(
          'payload_too_large',
          `result_json is larger than ${MAX_RESULT_BYTES} bytes; upload big outputs as artifacts`,
          { field: 'result_json' },
        );
      }
      try {
        resultJson = JSON.stringify(JSON.parse(report.resultJson));
      } catch (error) {
        throw invalidField('result_json', `is not JSON: ${(error as Error).message}`);
      }
    }
    const updated = await this.jobs.reportStatus(jobId, attempt, {
      progress,
      message: report.message === '' ? null : report.message,
      resultJson,
    });
    if (!updated) {
      throw new DanubeError(
        'failed_precondition',
        `job ${jobId} attempt ${attempt} ended while the status was being reported`,
      );
    }
  }

  async executions(tenant: string, id: string): Promise<Execution[]> {
    await this.get(tenant, id);
    return this.jobs.executions(tenant, id);
  }

  /**
   * Log lines after `afterId`, with the job's status read first: a job's lines are written
   * no later than its end, so a follower that sees a final status and no new lines has
   * seen them all.
   */
  async logs(
    tenant: string,
    id: string,
    afterId: string,
    limit: number,
  ): Promise<{ status: JobStatus; lines: StoredLogLine[] }> {
    const { status } = await this.get(tenant, id);
    return { status, lines: await this.jobs.logLines(tenant, id, afterId, limit) };
  }

  /**
   * Checks what a DTO cannot (limits that depend on the task class) and fills in defaults;
   * `field` prefixes the names of refused fields in errors. Workflows use it for their nodes.
   */
  prepare(job: NewJob, field: string): JobInsert {
    if (!NAME_PATTERN.test(job.topic)) {
      throw invalidField(`${field}topic`, `must be ${NAME_RULE}`);
    }
    const command = job.command;
    if (
      typeof command === 'string'
        ? command.trim() === ''
        : command.length === 0 || command[0] === ''
    ) {
      throw invalidField(`${field}command`, 'must not be empty');
    }
    const taskClass = job.taskClass ?? 'cpu_short';
    if (taskClass === 'gpu_slurm' && !this.options.acceptGpuSlurm) {
      throw new UnprocessableJobError(
        `${field}taskClass`,
        'gpu_slurm needs a Slurm runtime, or the kubernetes runtime configured for it (taskClasses.gpu_slurm, and DANUBE_ACCEPT_GPU_SLURM=true on the API); use taskClass gpu to run on a Kubernetes GPU node',
      );
    }
    const limit = TASK_CLASS_LIMITS[taskClass].maxTimeoutSeconds;
    const timeoutSeconds = job.timeoutSeconds ?? limit;
    if (timeoutSeconds > limit) {
      throw invalidField(
        `${field}timeoutSeconds`,
        `is ${timeoutSeconds} but ${taskClass} jobs may run at most ${limit} s; lower it or pick a longer task class`,
      );
    }
    for (const name of Object.keys(job.env ?? {})) {
      if (!ENV_NAME_PATTERN.test(name))
        throw invalidField(`${field}env.${name}`, 'is not a valid environment variable name');
      if (name.startsWith('DANUBE_'))
        throw invalidField(
          `${field}env.${name}`,
          'uses the DANUBE_ prefix, which is reserved for variables Danube sets',
        );
    }
    const secrets = [...new Set(job.secrets ?? [])];
    for (const [i, name] of secrets.entries()) {
      if (!SECRET_NAME_PATTERN.test(name))
        throw invalidField(`${field}secrets[${i}]`, `must be a secret name: ${SECRET_NAME_RULE}`);
    }
    for (const [variable, name] of Object.entries(job.secretEnv ?? {})) {
      if (!ENV_NAME_PATTERN.test(variable) || variable.startsWith('DANUBE_'))
        throw invalidField(
          `${field}secretEnv.${variable}`,
          'must be a valid environment variable name outside the reserved DANUBE_ prefix',
        );
      if (!secrets.includes(name))
        throw invalidField(
          `${field}secretEnv.${variable}`,
          `names secret "${name}", which is not in ${field}secrets; a job reads only the secrets it lists`,
        );
      if (job.env && variable in job.env)
        throw invalidField(`${field}secretEnv.${variable}`, `is also set in ${field}env; keep one`);
    }
    if (job.resources !== undefined) {
      const problem = resourceHintsProblem(job.resources);
      if (problem) throw invalidField(`${field}resources${problem[0]}`, problem[1]);
    }
    const backoff = { ...DEFAULT_BACKOFF, ...job.backoff };
    if (backoff.maxSeconds < backoff.initialSeconds) {
      throw invalidField(
        `${field}backoff.maxSeconds`,
        `(${backoff.maxSeconds}) must be at least backoff.initialSeconds (${backoff.initialSeconds})`,
      );
    }
    const maxAttempts = job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    return {
      tenant: job.tenant ?? 'default',
      topic: job.topic,
      task_class: taskClass,
      priority: job.priority ?? 0,
      run_at: job.runAt ? job.runAt.toISOString() : null,
      max_attempts: maxAttempts,
      timeout_seconds: timeoutSeconds,
      spec: {
        command,
        ...(job.image !== undefined && { image: job.image }),
        env: job.env ?? {},
        backoff,
        noRetryExitCodes: job.noRetryExitCodes ?? [],
        maxAttempts,
        ...(secrets.length > 0 && { secrets }),
        ...(job.secretEnv && Object.keys(job.secretEnv).length > 0 && { secretEnv: job.secretEnv }),
        ...(job.resources !== undefined && { resources: job.resources }),
      },
      labels: job.labels ?? {},
      idempotency_key: job.idempotencyKey ?? null,
    };
  }

  /** Pairs each requested job with the row inserted for it; null where a key already existed. */
  private matchInserted(inserts: JobInsert[], inserted: Job[]): (EnqueueResult | null)[] {
    // Rows come back in insert order, and only keyed jobs can be missing, so walk both.
    const results: (EnqueueResult | null)[] = [];
    let next = 0;
    const seenKeys = new Set<string>();
    for (const insert of inserts) {
      const row = inserted[next];
      const key =
        insert.idempotency_key === null ? null : `${insert.tenant}\u0000${insert.idempotency_key}`;
      const duplicateInBatch = key !== null && seenKeys.has(key);
      if (key !== null) seenKeys.add(key);
      if (
        row &&
        !duplicateInBatch &&
        row.idempotencyKey === insert.idempotency_key &&
        row.topic === insert.topic
      ) {
        results.push({ job: row, created: true });
        next++;
      } else {
        results.push(null);
      }
    }
    return results;
  }
}
