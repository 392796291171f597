import { Injectable } from '@nestjs/common';
import type { HousekeepingTask } from '../housekeeping-task';
import { HousekeepingRunner } from '../housekeeping.runner';
import { ScheduleFirer } from './schedule-firer';

export const SCHEDULES_TICK = 'schedules_tick';

/** The longest the loop sleeps: a schedule made on another replica is seen within this. */
const MAX_SLEEP_MS = 60_000;

/**
 * The schedules' loop on graphile-worker: fires what is due, then adds its own next job
 * for the earliest next fire (one pending job under its name, so replicas share one
 * loop). Creating or changing a schedule wakes it; its cron restarts it every minute
 * should a failure have stopped it.
 */
@Injectable()
export class SchedulesTick implements HousekeepingTask {
  readonly name = SCHEDULES_TICK;
  readonly cron = '* * * * *';
  readonly loop = true;

  constructor(
    private readonly firer: ScheduleFirer,
    private readonly runner: HousekeepingRunner,
  ) {
    runner.register(this);
  }

  async run(): Promise<void> {
    try {
      await this.firer.fireDue();
    } finally {
      await this.runner.add(
        this.name,
        {},
        { jobKey: this.name, runAt: await this.wakeAt(), keepPendingTime: true },
      );
    }
  }

  /** Wakes the loop now (a schedule was created, changed or resumed). */
  wake(): Promise<void> {
    return this.runner.add(this.name, {}, { jobKey: this.name });
  }

  /** The earliest next fire (now, if fireDue stopped with more due), within MAX_SLEEP_MS. */
  private async wakeAt(): Promise<Date> {
    const now = Date.now();
    const next = (await this.firer.nextFire())?.getTime() ?? Infinity;
    return new Date(Math.max(now, Math.min(next, now + MAX_SLEEP_MS)));
  }
}
