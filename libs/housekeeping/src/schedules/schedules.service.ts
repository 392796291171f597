import { Injectable } from '@nestjs/common';
import {
  DanubeError,
  InvalidArgumentError,
  NAME_PATTERN,
  NAME_RULE,
  NotFoundError,
} from '@danube/core';
import { WorkflowsService } from '@danube/dag';
import { JobsService } from '@danube/queue';
import { CronSchedule } from './cron-schedule';
import type {
  NewSchedule,
  Schedule,
  ScheduleChanges,
  ScheduleRun,
  ScheduleTarget,
} from './schedule-records';
import { SchedulesRepository } from './schedules.repository';
import { SchedulesTick } from './schedules-tick.task';

/** Schedules as users see them: create, read, change, pause, delete; their last runs. */
@Injectable()
export class SchedulesService {
  constructor(
    private readonly schedules: SchedulesRepository,
    private readonly jobs: JobsService,
    private readonly workflows: WorkflowsService,
    private readonly tick: SchedulesTick,
  ) {}

  async create(schedule: NewSchedule): Promise<Schedule> {
    if (!NAME_PATTERN.test(schedule.name)) {
      throw new InvalidArgumentError(`name must be ${NAME_RULE}`, { field: 'name' });
    }
    const cron = CronSchedule.parse(schedule.cron, schedule.timeZone);
    this.checkTarget(schedule.tenant, schedule.target);
    const created = await this.schedules.insert(schedule, cron.nextAfter(new Date()));
    if (!created) {
      throw new DanubeError('conflict', `a schedule named "${schedule.name}" exists already`, {
        field: 'name',
      });
    }
    if (!created.paused) await this.tick.wake();
    return created;
  }

  async get(tenant: string, id: string): Promise<Schedule> {
    const schedule = await this.schedules.find(tenant, id);
    if (!schedule) throw new NotFoundError('schedule', id);
    return schedule;
  }

  list(tenant: string, before: string | undefined, limit: number): Promise<Schedule[]> {
    return this.schedules.list(tenant, before, limit);
  }

  /**
   * Changes what is given. A new cron or time zone, or resuming, starts from the next fire
   * time after now: fires that fell while paused are not caught up.
   */
  async update(tenant: string, id: string, changes: ScheduleChanges): Promise<Schedule> {
    const current = await this.get(tenant, id);
    if (changes.target) this.checkTarget(tenant, changes.target);
    const clockChanged = changes.cron !== undefined || changes.timeZone !== undefined;
    const resumed = changes.paused === false && current.paused;
    let nextFireAt: Date | null = null;
    if (clockChanged || resumed) {
      const cron = CronSchedule.parse(
        changes.cron ?? current.cron,
        changes.timeZone ?? current.timeZone,
      );
      nextFireAt = cron.nextAfter(new Date());
    }
    const updated = await this.schedules.update(tenant, id, changes, nextFireAt);
    if (!updated) throw new NotFoundError('schedule', id);
    if (!updated.paused) await this.tick.wake();
    return updated;
  }

  /** Deletes the schedule and its runs; the jobs and workflows it started stay. */
  async delete(tenant: string, id: string): Promise<void> {
    if (!(await this.schedules.delete(tenant, id))) throw new NotFoundError('schedule', id);
  }

  async runs(tenant: string, id: string, limit: number): Promise<ScheduleRun[]> {
    await this.get(tenant, id);
    return this.schedules.runs(id, limit);
  }

  /**
   * Checks the target as POST /v1/jobs or /v1/workflows would, so that a schedule is
   * refused now rather than failing at every fire. Errors name the field under `job.` or
   * `workflow.`.
   */
  private checkTarget(tenant: string, target: ScheduleTarget): void {
    if ('job' in target) {
      this.jobs.prepare({ ...target.job, tenant }, 'job.');
      return;
    }
    try {
      this.workflows.prepare({ ...target.workflow, tenant });
    } catch (error) {
      if (!(error instanceof DanubeError)) throw error;
      const field = typeof error.details?.field === 'string' ? error.details.field : undefined;
      const message = error.message.startsWith('nodes')
        ? `workflow.${error.message}`
        : `workflow: ${error.message}`;
      throw new DanubeError(error.code, message, {
        ...error.details,
        ...(field ? { field: `workflow.${field}` } : {}),
      });
    }
  }
}
