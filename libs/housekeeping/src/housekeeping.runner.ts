import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { createPool } from '@danube/db';
import { ReadinessChecks } from '@danube/observability';
import type { Pool } from 'pg';
import type { Runner } from 'graphile-worker' with { 'resolution-mode': 'import' };
import { graphileWorker } from './graphile-worker';
import type { HousekeepingJobOptions, HousekeepingTask } from './housekeeping-task';

export const HOUSEKEEPING_OPTIONS = Symbol('HOUSEKEEPING_OPTIONS');

/** graphile-worker's tables live in this schema, beside Danube's. */
export const HOUSEKEEPING_SCHEMA = 'danube_worker';

export interface HousekeepingOptions {
  /** false: this process runs no chores (other replicas do); adding a job is then a no-op. */
  enabled: boolean;
  databaseUrl: string;
  /** Chores run at once in this process. */
  concurrency: number;
  /** How often graphile-worker looks for jobs that became due (new ones are announced). */
  pollIntervalMs: number;
  /** Days finished jobs are kept where a tenant set no retention default (RETENTION_DAYS). */
  retentionDays: number;
  /** How late a schedule's fire may run and still be on time (see schedules/fire-plan.ts). */
  lateFireGraceMs: number;
}

/**
 * graphile-worker inside the API process: its schema migrated at start by its own
 * migrations, one runner per replica, on a pool of its own. Its LISTEN connection is its
 * health on /readyz. Chores register here when they are made (schedules, retention,
 * webhooks), before the application starts it.
 */
@Injectable()
export class HousekeepingRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Housekeeping');
  private runner: Runner | null = null;
  private pool: Pool | null = null;
  private problem: string | null = 'graphile-worker has not started';
  private readonly tasks: HousekeepingTask[] = [];

  constructor(
    @Inject(HOUSEKEEPING_OPTIONS) private readonly options: HousekeepingOptions,
    private readonly readiness: ReadinessChecks,
  ) {}

  register(task: HousekeepingTask): void {
    if (this.runner) throw new Error(`chore ${task.name} registered after the runner started`);
    this.tasks.push(task);
  }

  /** Whether this process runs chores (DANUBE_HOUSEKEEPING). */
  get enabled(): boolean {
    return this.options.enabled;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.enabled) return;
    this.readiness.add({ name: 'housekeeping', problem: () => this.problem });
    const { gw, Pool } = graphileWorker();
    const pool = createPool(
      {
        databaseUrl: this.options.databaseUrl,
        max: this.options.concurrency + 2,
        applicationName: 'danube-housekeeping',
      },
      Pool,
    );
    this.pool = pool;
    const logger = new gw.Logger((scope) => (level, message, meta) => {
      const where = scope.label ? ` (${scope.label})` : '';
      // A chore's failed try (a webhook receiver answering 503) is retried: a warning of
      // one line, not an error with a stack.
      if ((meta as { failure?: boolean } | undefined)?.failure) {
        this.logger.warn(`${message.split('\n')[0]}${where}`);
      } else if (level === 'error') this.logger.error(`${message}${where}`);
      else if (level === 'warning') this.logger.warn(`${message}${where}`);
    });
    const events = new EventEmitter();
    events.on('pool:listen:success', () => {
      this.problem = null;
    });
    events.on('pool:listen:error', ({ error }: { error: Error }) => {
      this.problem = `graphile-worker lost its database connection (${error.message}); it reconnects`;
    });

    await gw.runMigrations({ pgPool: pool, schema: HOUSEKEEPING_SCHEMA, logger });
    const taskList = Object.fromEntries(
      this.tasks.map((task) => [
        task.name,
        (payload: unknown, helpers: { job: { attempts: number; max_attempts: number } }) =>
          task.run(payload, {
            attempt: helpers.job.attempts,
            maxAttempts: helpers.job.max_attempts,
          }),
      ]),
    );
    // Under the chore's name as job key: a cron run moves a pending job to now instead of
    // adding a second one, and never piles up behind a chore that is slow.
    const cronItems = this.tasks.flatMap((task) =>
      task.cron
        ? [
            {
              task: task.name,
              match: task.cron,
              identifier: task.name,
              options: { jobKey: task.name, jobKeyMode: 'replace' as const, backfillPeriod: 0 },
            },
          ]
        : [],
    );
    this.start = () =>
      gw.run({
        pgPool: pool,
        schema: HOUSEKEEPING_SCHEMA,
        concurrency: this.options.concurrency,
        pollInterval: this.options.pollIntervalMs,
        noHandleSignals: true,
        logger,
        events,
        taskList,
        parsedCronItems: gw.parseCronItems(cronItems),
        // Completions and failures are written in batches, retried for minutes while the
        // database is away. Written one by one, a write that failed was an unhandled
        // rejection, which ends a Node process.
        preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      });
    await this.run();
  }

  /** The restart function, once onApplicationBootstrap has set it up. */
  private start: (() => Promise<Runner>) | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restarts = 0;

  /**
   * Starts graphile-worker, starts the looping chores, and watches it: should it stop on
   * its own (it gives up on a database that stayed away for minutes, saying its queue may
   * be inconsistent), it is started again, after a growing pause, and /readyz says why
   * meanwhile.
   */
  private async run(): Promise<void> {
    const runner = await this.start!();
    this.runner = runner;
    this.restarts = 0;
    runner.promise.then(
      () => this.runner === runner && this.stopped('it stopped'),
      (error: Error) => this.runner === runner && this.stopped(error.message),
    );
    try {
      for (const task of this.tasks.filter((t) => t.loop)) {
        await this.add(task.name, {}, { jobKey: task.name });
      }
    } catch (error) {
      // Their cron items start them within a minute.
      this.logger.warn(`looping chores not started yet: ${(error as Error).message}`);
    }
  }

  private stopped(why: string): void {
    if (this.stopping) return;
    this.runner = null;
    const delayMs = Math.min(1000 * 2 ** this.restarts, 30_000);
    this.restarts += 1;
    this.problem = `graphile-worker stopped (${why}); starting it again in ${delayMs / 1000} s`;
    this.logger.error(this.problem);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.run().catch((error: Error) => this.stopped(error.message));
    }, delayMs);
  }

  /** Adds a job for a chore; with a jobKey, moves the pending one. No-op when disabled. */
  async add(task: string, payload: object, options: HousekeepingJobOptions = {}): Promise<void> {
    if (!this.runner) return;
    await this.runner.addJob(task, payload, {
      runAt: options.runAt,
      jobKey: options.jobKey,
      jobKeyMode: !options.jobKey
        ? undefined
        : options.keepPendingTime
          ? 'preserve_run_at'
          : 'replace',
      maxAttempts: options.maxAttempts,
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const runner = this.runner;
    this.runner = null;
    this.problem = 'graphile-worker stopped';
    await runner?.stop();
    await this.pool?.end();
  }
}
