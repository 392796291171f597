import type { NewJob } from '@danube/core';
import type { NewNode } from '@danube/dag';

export const OVERLAP_POLICIES = ['allow', 'skip', 'cancel_previous'] as const;
/**
 * What a fire does while the schedule's previous run is unfinished: start anyway (allow),
 * start nothing (skip), or cancel the previous run and start (cancel_previous).
 */
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const CATCH_UP_POLICIES = ['none', 'all'] as const;
/**
 * Fires missed while no replica ran chores (all stopped, database away): none are run
 * (none), or each is run once, the newest `catchUpLimit` of them (all).
 */
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** What a schedule starts: one job, or one workflow (the tenant is the schedule's). */
export type ScheduleTarget =
  | { job: Omit<NewJob, 'tenant' | 'runAt' | 'idempotencyKey'> }
  | { workflow: { name: string; labels?: Record<string, string>; nodes: NewNode[] } };

export interface NewSchedule {
  tenant: string;
  name: string;
  cron: string;
  timeZone: string;
  target: ScheduleTarget;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  catchUpLimit: number;
  paused: boolean;
}

/** A partial update: what is left out stays as it is. */
export type ScheduleChanges = Partial<Omit<NewSchedule, 'tenant' | 'name'>>;

export interface Schedule extends NewSchedule {
  id: string;
  /** When it fires next; null while paused. */
  nextFireAt: Date | null;
  missedFires: number;
  lastFiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScheduleRun {
  scheduledAt: Date;
  firedAt: Date;
  outcome: 'started' | 'skipped';
  reason: string | null;
  jobId: string | null;
  workflowId: string | null;
}
