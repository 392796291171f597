import { Inject, Injectable, Optional } from '@nestjs/common';
import { DanubeError } from '@danube/core';
import { WorkflowsService } from '@danube/dag';
import { InjectPool, withTransaction, type Queryable } from '@danube/db';
import { DanubeMetrics } from '@danube/observability';
import { JobsService } from '@danube/queue';
import type { Pool } from 'pg';
import { HOUSEKEEPING_OPTIONS, type HousekeepingOptions } from '../housekeeping.runner';
import { CronSchedule } from './cron-schedule';
import { MAX_DUE_FIRES, planFires } from './fire-plan';
import { SchedulesRepository, type DueSchedule } from './schedules.repository';

/** Runs kept per schedule (GET /v1/schedules/:id/runs shows them). */
export const KEPT_RUNS = 100;

/** What one scheduled time started. */
interface Started {
  jobId: string | null;
  workflowId: string | null;
  topic: string | null;
}

/**
 * Fires due schedules. Each schedule's fire is one transaction holding its row lock: the
 * runs of its due times (started or skipped), the jobs or workflows they start, a
 * schedule_fired event each, and its next fire time commit together or not at all. So a
 * scheduled time is started once, whichever replica fires it and however often a fire is
 * retried.
 */
@Injectable()
export class ScheduleFirer {
  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly jobs: JobsService,
    private readonly workflows: WorkflowsService,
    @Inject(HOUSEKEEPING_OPTIONS) private readonly options: HousekeepingOptions,
    @Optional() @Inject(DanubeMetrics) private readonly metrics: DanubeMetrics | null = null,
  ) {}

  /** Fires due schedules until none is due or `max` have fired; returns how many fired. */
  async fireDue(max = 100): Promise<number> {
    let fired = 0;
    while (fired < max) {
      // Wakes executors once the fire has committed, not before.
      const afterCommit: (() => void)[] = [];
      const found = await withTransaction(this.pool, async (client) => {
        const schedules = SchedulesRepository.on(client);
        const due = await schedules.lockDue();
        if (!due) return false;
        await this.fire(client, schedules, due, afterCommit);
        return true;
      });
      if (!found) break;
      for (const announce of afterCommit) announce();
      fired += 1;
    }
    return fired;
  }

  /** When there may be something to fire next: null when no schedule is active. */
  nextFire(): Promise<Date | null> {
    return SchedulesRepository.on(this.pool).nextFire();
  }

  private async fire(
    client: Queryable,
    schedules: SchedulesRepository,
    due: DueSchedule,
    afterCommit: (() => void)[],
  ): Promise<void> {
    const cron = CronSchedule.parse(due.cron, due.timeZone);
    const { times, more } = cron.latestBetween(due.nextFireAt, due.now, MAX_DUE_FIRES);
    const plan = planFires(
      times,
      more,
      due.now,
      { policy: due.catchUp, limit: due.catchUpLimit },
      this.options.lateFireGraceMs,
    );
    let last = { jobId: due.lastJobId, workflowId: due.lastWorkflowId };
    let startedAny = false;
    for (const scheduledAt of plan.run) {
      const started = await this.fireAt(client, schedules, due, scheduledAt, last, afterCommit);
      if (started) {
        last = { jobId: started.jobId, workflowId: started.workflowId };
        startedAny = true;
      }
    }
    await schedules.advance(due.id, {
      nextFireAt: cron.nextAfter(due.now),
      missed: plan.missed,
      firedAt: startedAny ? due.now : null,
      lastJobId: startedAny ? last.jobId : null,
      lastWorkflowId: startedAny ? last.workflowId : null,
    });
    await schedules.pruneRuns(due.id, KEPT_RUNS);
    if (plan.missed > 0) this.metrics?.scheduleFires.inc({ outcome: 'missed' }, plan.missed);
  }

  /** One scheduled time: the overlap policy, then the run started or recorded as skipped. */
  private async fireAt(
    client: Queryable,
    schedules: SchedulesRepository,
    due: DueSchedule,
    scheduledAt: Date,
    previous: { jobId: string | null; workflowId: string | null },
    afterCommit: (() => void)[],
  ): Promise<Started | null> {
    let reason: string | null = null;
    if (
      due.overlap !== 'allow' &&
      (previous.jobId !== null || previous.workflowId !== null) &&
      (await schedules.previousRunUnfinished(previous.jobId, previous.workflowId))
    ) {
      const which =
        previous.jobId !== null ? `job ${previous.jobId}` : `workflow ${previous.workflowId}`;
      if (due.overlap === 'skip') {
        await this.record(schedules, due, scheduledAt, `the previous run (${which}) is unfinished`);
        return null;
      }
      await this.cancel(due.tenant, previous);
      reason = `cancelled the previous run (${which})`;
    }

    // A target the API accepted can still be refused now (a tenant's queue is full, its
    // limits changed): that time is recorded as skipped with the reason, and the schedule
    // goes on. Any other error ends the fire, which is retried.
    await client.query('SAVEPOINT fire');
    let started: Started;
    try {
      started = await this.start(client, due, scheduledAt, afterCommit);
      await client.query('RELEASE SAVEPOINT fire');
    } catch (error) {
      if (!(error instanceof DanubeError)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT fire');
      await this.record(schedules, due, scheduledAt, `not started: ${error.message}`);
      return null;
    }
    const recorded = await schedules.insertRun(due.id, {
      scheduledAt,
      outcome: 'started',
      reason,
      jobId: started.jobId,
      workflowId: started.workflowId,
    });
    // Cannot happen while this transaction holds the schedule's lock; if it did, nothing
    // of this fire may commit.
    if (!recorded) {
      throw new Error(`schedule ${due.id} has a run at ${scheduledAt.toISOString()} already`);
    }
    await schedules.firedEvent(due, scheduledAt, started);
    this.metrics?.scheduleFires.inc({ outcome: 'started' });
    return started;
  }

  private async start(
    client: Queryable,
    due: DueSchedule,
    scheduledAt: Date,
    afterCommit: (() => void)[],
  ): Promise<Started> {
    const target = due.target;
    if ('job' in target) {
      const idempotencyKey = `schedule:${due.id}:${scheduledAt.toISOString()}`;
      const [job] = await this.jobs.storeWithin(
        client,
        [{ ...target.job, tenant: due.tenant, idempotencyKey }],
        'job.',
      );
      if (!job) {
        throw new DanubeError('conflict', `a job with idempotency key ${idempotencyKey} exists`);
      }
      afterCommit.push(() => this.jobs.announce([job]));
      return { jobId: job.id, workflowId: null, topic: job.topic };
    }
    const prepared = this.workflows.prepare({ ...target.workflow, tenant: due.tenant });
    const workflowId = await this.workflows.storeWithin(client, prepared);
    afterCommit.push(() => this.workflows.announce(prepared));
    return { jobId: null, workflowId, topic: null };
  }

  private async record(
    schedules: SchedulesRepository,
    due: DueSchedule,
    scheduledAt: Date,
    reason: string,
  ): Promise<void> {
    await schedules.insertRun(due.id, {
      scheduledAt,
      outcome: 'skipped',
      reason,
      jobId: null,
      workflowId: null,
    });
    this.metrics?.scheduleFires.inc({ outcome: 'skipped' });
  }

  /** Cancels the previous run; one that ended meanwhile needs nothing. */
  private async cancel(
    tenant: string,
    previous: { jobId: string | null; workflowId: string | null },
  ): Promise<void> {
    try {
      if (previous.jobId !== null) await this.jobs.cancel(tenant, previous.jobId);
      else await this.workflows.cancel(tenant, previous.workflowId!);
    } catch (error) {
      if (!(error instanceof DanubeError && error.code === 'invalid_transition')) throw error;
    }
  }
}
