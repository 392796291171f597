import { Injectable } from '@nestjs/common';
import type { HousekeepingTask } from '../housekeeping-task';
import { HousekeepingRunner } from '../housekeeping.runner';
import { RetentionSweepService } from './retention-sweep.service';
import { RETENTION_SWEEP_TASK } from './retention.service';

/** How long a sweep that found another running waits before it tries again. */
const BUSY_RETRY_MS = 30_000;

const later = (ms: number) => new Date(Date.now() + ms);

/**
 * The retention sweep on graphile-worker: every 5 minutes on one replica, and when asked
 * for (POST /v1/retention/sweep). A sweep whose time budget ran out before everything due
 * was deleted (a backlog) asks for the next one at once instead of waiting for the cron; one
 * that found another sweep running asks for one a little later.
 */
@Injectable()
export class RetentionSweepTask implements HousekeepingTask {
  readonly name = RETENTION_SWEEP_TASK;
  readonly cron = '*/5 * * * *';

  constructor(
    private readonly sweeper: RetentionSweepService,
    private readonly runner: HousekeepingRunner,
  ) {
    runner.register(this);
  }

  async run(): Promise<void> {
    const report = await this.sweeper.sweep();
    if (!report.ran) {
      // Another sweep is running, and may be past what this one was asked for (a policy
      // just shortened): look again once it is likely done.
      await this.runner.add(this.name, {}, { jobKey: this.name, runAt: later(BUSY_RETRY_MS) });
    } else if (!report.done) {
      await this.runner.add(this.name, {}, { jobKey: this.name });
    }
  }
}
