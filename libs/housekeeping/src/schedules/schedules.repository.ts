import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type {
  CatchUpPolicy,
  NewSchedule,
  OverlapPolicy,
  Schedule,
  ScheduleChanges,
  ScheduleRun,
  ScheduleTarget,
} from './schedule-records';
import * as sql from './schedules.sql';

interface ScheduleRow {
  id: string;
  tenant: string;
  name: string;
  cron: string;
  time_zone: string;
  target: ScheduleTarget;
  overlap: OverlapPolicy;
  catch_up: CatchUpPolicy;
  catch_up_limit: number;
  paused_at: Date | null;
  next_fire_at: Date;
  missed_fires: string;
  last_fired_at: Date | null;
  last_job_id: string | null;
  last_workflow_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A schedule locked for its fire: the row, the previous run, and the database's clock. */
export interface DueSchedule extends Schedule {
  nextFireAt: Date;
  lastJobId: string | null;
  lastWorkflowId: string | null;
  now: Date;
}

function toSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    cron: row.cron,
    timeZone: row.time_zone,
    target: row.target,
    overlap: row.overlap,
    catchUp: row.catch_up,
    catchUpLimit: row.catch_up_limit,
    paused: row.paused_at !== null,
    nextFireAt: row.paused_at === null ? row.next_fire_at : null,
    missedFires: Number(row.missed_fires),
    lastFiredAt: row.last_fired_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface RunRow {
  scheduled_at: Date;
  fired_at: Date;
  outcome: 'started' | 'skipped';
  reason: string | null;
  job_id: string | null;
  workflow_id: string | null;
}

function toRun(row: RunRow): ScheduleRun {
  return {
    scheduledAt: row.scheduled_at,
    firedAt: row.fired_at,
    outcome: row.outcome,
    reason: row.reason,
    jobId: row.job_id,
    workflowId: row.workflow_id,
  };
}

@Injectable()
export class SchedulesRepository extends Repository {
  /** null when the tenant has a schedule of that name. */
  async insert(schedule: NewSchedule, nextFireAt: Date): Promise<Schedule | null> {
    const { rows } = await this.db.query<ScheduleRow>(sql.INSERT_SCHEDULE, [
      schedule.tenant,
      schedule.name,
      schedule.cron,
      schedule.timeZone,
      JSON.stringify(schedule.target),
      schedule.overlap,
      schedule.catchUp,
      schedule.catchUpLimit,
      schedule.paused,
      nextFireAt,
    ]);
    return rows[0] ? toSchedule(rows[0]) : null;
  }

  async find(tenant: string, id: string): Promise<Schedule | null> {
    const { rows } = await this.db.query<ScheduleRow>(sql.SELECT_SCHEDULE, [id, tenant]);
    return rows[0] ? toSchedule(rows[0]) : null;
  }

  async list(tenant: string, before: string | undefined, limit: number): Promise<Schedule[]> {
    const { rows } = await this.db.query<ScheduleRow>(sql.LIST_SCHEDULES, [
      tenant,
      before ?? null,
      limit,
    ]);
    return rows.map(toSchedule);
  }

  /** `nextFireAt`: set when the clock changed or the schedule resumes. */
  async update(
    tenant: string,
    id: string,
    changes: ScheduleChanges,
    nextFireAt: Date | null,
  ): Promise<Schedule | null> {
    const { rows } = await this.db.query<ScheduleRow>(sql.UPDATE_SCHEDULE, [
      id,
      tenant,
      changes.cron ?? null,
      changes.timeZone ?? null,
      changes.target ? JSON.stringify(changes.target) : null,
      changes.overlap ?? null,
      changes.catchUp ?? null,
      changes.catchUpLimit ?? null,
      nextFireAt,
      changes.paused ?? null,
    ]);
    return rows[0] ? toSchedule(rows[0]) : null;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return ((await this.db.query(sql.DELETE_SCHEDULE, [id, tenant])).rowCount ?? 0) > 0;
  }

  async runs(scheduleId: string, limit: number): Promise<ScheduleRun[]> {
    const { rows } = await this.db.query<RunRow>(sql.SELECT_RUNS, [scheduleId, limit]);
    return rows.map(toRun);
  }

  // --- One fire (on the fire's transaction client) ---

  async lockDue(): Promise<DueSchedule | null> {
    const { rows } = await this.db.query<ScheduleRow & { now: Date }>(sql.LOCK_DUE_SCHEDULE);
    const row = rows[0];
    if (!row) return null;
    return {
      ...toSchedule(row),
      nextFireAt: row.next_fire_at,
      lastJobId: row.last_job_id,
      lastWorkflowId: row.last_workflow_id,
      now: row.now,
    };
  }

  async previousRunUnfinished(jobId: string | null, workflowId: string | null): Promise<boolean> {
    const { rows } = await this.db.query<{ unfinished: boolean }>(sql.PREVIOUS_RUN_UNFINISHED, [
      jobId,
      workflowId,
    ]);
    return rows[0]!.unfinished;
  }

  /** false when that scheduled time has a run already. */
  async insertRun(
    scheduleId: string,
    run: Pick<ScheduleRun, 'scheduledAt' | 'outcome' | 'reason' | 'jobId' | 'workflowId'>,
  ): Promise<boolean> {
    const { rowCount } = await this.db.query(sql.INSERT_RUN, [
      scheduleId,
      run.scheduledAt,
      run.outcome,
      run.reason,
      run.jobId,
      run.workflowId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async firedEvent(
    schedule: Pick<Schedule, 'id' | 'tenant' | 'name'>,
    scheduledAt: Date,
    started: { jobId: string | null; workflowId: string | null; topic: string | null },
  ): Promise<void> {
    await this.db.query(sql.FIRED_EVENT, [
      schedule.tenant,
      started.jobId,
      started.workflowId,
      started.topic,
      JSON.stringify({
        scheduleId: schedule.id,
        scheduleName: schedule.name,
        scheduledAt: scheduledAt.toISOString(),
      }),
    ]);
  }

  async advance(
    id: string,
    next: {
      nextFireAt: Date;
      missed: number;
      firedAt: Date | null;
      lastJobId: string | null;
      lastWorkflowId: string | null;
    },
  ): Promise<void> {
    await this.db.query(sql.ADVANCE_SCHEDULE, [
      id,
      next.nextFireAt,
      next.missed,
      next.firedAt,
      next.lastJobId,
      next.lastWorkflowId,
    ]);
  }

  async pruneRuns(scheduleId: string, keep: number): Promise<void> {
    await this.db.query(sql.PRUNE_RUNS, [scheduleId, keep]);
  }

  /** The earliest fire of an active schedule; null when none is active. */
  async nextFire(): Promise<Date | null> {
    const { rows } = await this.db.query<{ next_fire_at: Date | null }>(sql.NEXT_FIRE);
    return rows[0]!.next_fire_at;
  }
}
