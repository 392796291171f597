import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { TenantsService } from '@danube/auth';
import { InjectPool, withTransaction } from '@danube/db';
import type { Pool } from 'pg';
import { InvalidArgumentError, isTerminal, type Job } from '@danube/core';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';
import { JOBS_CHANNEL, Notifier } from './notifications';
import { StepWaiter } from './step-waiter';
import { StepsRepository } from './steps.repository';

/** What a running job asks RunStep to run. */
export interface StepRequest {
  /** An argv array, or a string run by /bin/sh -c. */
  command: string[] | string;
  env: Record<string, string>;
  image?: string;
  name?: string;
  timeoutSeconds?: number;
  topic?: string;
  /** Makes a retried call find the step it started before instead of starting another. */
  requestId?: string;
}

/** A step that ended, with what it printed (capped) and how it ended. */
export interface StepOutcome {
  step: Job;
  exitCode: number | null;
  stdout: CappedText;
  stderr: CappedText;
}

export interface CappedText {
  text: string;
  truncated: boolean;
}

/** Output returned to the parent per stream; the job's logs keep the rest. */
export const MAX_STEP_OUTPUT_BYTES = 1024 * 1024;
const STEP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Steps: child jobs that a running job starts through RunStep and waits for. A step runs
 * once (no retries: its parent decides what a failure means), on its parent's topic
 * unless told otherwise, in its parent's workflow, and shows in the history as a job of
 * its own with parentJobId set.
 */
@Injectable()
export class StepsService implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly steps: StepsRepository,
    private readonly jobRecords: JobsRepository,
    private readonly jobs: JobsService,
    private readonly notifier: Notifier,
    private readonly waiter: StepWaiter,
    @InjectPool() private readonly pool: Pool,
    @Optional() @Inject(TenantsService) private readonly tenants: TenantsService | null = null,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.waiter.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.waiter.stop();
  }

  /** Queues the step (or finds the one a previous try of the same request queued). */
  async start(parent: Job, request: StepRequest): Promise<Job> {
    if (request.name !== undefined && !STEP_NAME_PATTERN.test(request.name)) {
      throw new InvalidArgumentError(
        'name must be 1-64 letters, digits, _ . or -, starting with a letter or digit',
        { field: 'name' },
      );
    }
    if (request.requestId !== undefined && !REQUEST_ID_PATTERN.test(request.requestId)) {
      throw new InvalidArgumentError('request_id must be 1-128 letters, digits, _ or -', {
        field: 'request_id',
      });
    }
    const insert = this.jobs.prepare(
      {
        topic: request.topic ?? parent.topic,
        command: request.command,
        taskClass: parent.taskClass,
        image: request.image ?? parent.spec.image,
        env: request.env,
        timeoutSeconds: request.timeoutSeconds ?? parent.timeoutSeconds,
        maxAttempts: 1,
        priority: parent.priority,
        labels: parent.labels,
        tenant: parent.tenant,
        idempotencyKey:
          request.requestId === undefined
            ? undefined
            : `step:${parent.id}:${parent.attempts}:${request.requestId}`,
      },
      '',
    );
    // A step meets its tenant's limits (job timeout, image rules, queued cap) like any job.
    const inserted = this.tenants
      ? await withTransaction(this.pool, async (client) => {
          await this.tenants!.admit(client, [insert], () => '');
          return StepsRepository.on(client).insertStep(parent.id, request.name ?? null, insert);
        })
      : await this.steps.insertStep(parent.id, request.name ?? null, insert);
    if (inserted) this.jobs.countEnqueued([inserted]);
    const step =
      inserted ??
      (await this.jobRecords.findByIdempotencyKeys(insert.tenant, [insert.idempotency_key!]))[0];
    if (!step) throw new Error(`step of job ${parent.id} vanished after its insert`);
    this.notifier.notify(JOBS_CHANNEL, [step.topic]);
    return step;
  }

  /** Resolves with the step once it has ended, or with its current state when `signal` aborts. */
  async waitForEnd(step: Job, signal?: AbortSignal): Promise<Job> {
    for (;;) {
      // Listen before reading, so that an end between the read and the wait wakes us.
      const next = this.waiter.nextChange(step.id, signal);
      try {
        const current = await this.jobs.get(step.tenant, step.id);
        if (isTerminal(current.status) || signal?.aborted) return current;
        await next.changed;
      } finally {
        next.cancel();
      }
    }
  }

  /** How an ended step ended: its last attempt's exit code and output. */
  async outcome(step: Job): Promise<StepOutcome> {
    const executions = step.attempts > 0 ? await this.jobs.executions(step.tenant, step.id) : [];
    const last = executions.at(-1);
    const lines = last ? await this.steps.attemptOutput(step.id, last.attempt) : [];
    return {
      step,
      exitCode: last?.exitCode ?? null,
      // A step run on Kubernetes has one combined stream: it is the step's stdout.
      stdout: capLines(
        lines.filter((l) => l.stream === 'stdout' || l.stream === 'combined').map((l) => l.line),
      ),
      stderr: capLines(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)),
    };
  }
}

/** Lines joined with newlines, cut at MAX_STEP_OUTPUT_BYTES (on a character boundary). */
export function capLines(lines: string[], maxBytes = MAX_STEP_OUTPUT_BYTES): CappedText {
  let bytes = 0;
  const kept: string[] = [];
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8') + 1;
    if (bytes + size > maxBytes) {
      const room = maxBytes - bytes;
      if (room > 0)
        kept.push(
          Buffer.from(line, 'utf8')
            .subarray(0, room)
            .toString('utf8')
            .replace(/\uFFFD$/, ''),
        );
      return { text: kept.join('\n'), truncated: true };
    }
    bytes += size;
    kept.push(line);
  }
  return { text: kept.length > 0 ? `${kept.join('\n')}\n` : '', truncated: false };
}
