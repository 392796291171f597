import type { CatchUpPolicy } from './schedule-records';

/**
 * How late a fire may run and still be on time, by default (SCHEDULE_LATE_FIRE_GRACE_SECONDS).
 * Chores are looked for twice a second, but a busy replica, a database failover or a
 * restart can delay one by seconds; a fire later than this was missed, and the catch-up
 * policy decides whether it runs.
 */
export const LATE_FIRE_GRACE_MS = 15_000;

/** The most due fire times one fire looks at; older ones are counted as missed. */
export const MAX_DUE_FIRES = 10_000;

export interface FirePlan {
  /** Scheduled times to run, oldest first. */
  run: Date[];
  /** Due times not run: too late, beyond the catch-up limit (a lower bound when `more`). */
  missed: number;
}

/**
 * Which of a schedule's due times to run now. `due` are the newest due times, oldest
 * first; `more` says older ones were left out of it.
 */
export function planFires(
  due: Date[],
  more: boolean,
  now: Date,
  catchUp: { policy: CatchUpPolicy; limit: number },
  graceMs = LATE_FIRE_GRACE_MS,
): FirePlan {
  const late = due.filter((t) => now.getTime() - t.getTime() > graceMs);
  const onTime = due.slice(late.length);
  const caughtUp = catchUp.policy === 'all' ? late.slice(-catchUp.limit) : [];
  return {
    run: [...caughtUp, ...onTime],
    missed: late.length - caughtUp.length + (more ? 1 : 0),
  };
}
