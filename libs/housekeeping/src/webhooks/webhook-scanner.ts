import { Injectable, Logger } from '@nestjs/common';
import { InjectPool, withTransaction } from '@danube/db';
import type { Pool } from 'pg';
import type { HousekeepingTask } from '../housekeeping-task';
import { HousekeepingRunner } from '../housekeeping.runner';
import { EVENT_TYPE_KINDS } from './webhook-events';
import { WebhooksRepository, type ScanStep } from './webhooks.repository';

export const SCAN_TASK = 'webhook_scan';
export const DELIVER_TASK = 'webhook_deliver';
/**
 * The scanner's next run is the one job with this key (its name, as the runner keys a
 * chore's cron runs): rescheduling moves it rather than adding another.
 */
export const WEBHOOK_SCAN_KEY = SCAN_TASK;

/** Events per scan step: bounds a step's transaction (deliveries = events x webhooks). */
export const SCAN_PAGE_SIZE = 200;
/** Steps per run while pages come back full, before yielding to the other chores. */
const MAX_STEPS_PER_RUN = 10;
/** How soon the scanner runs again: how late, at most, a delivery starts after its event. */
export const SCAN_INTERVAL_MS = 1000;
/**
 * How soon it runs again while no tenant has a webhook: an idle install makes no write a
 * second. Creating a webhook wakes it at once (WebhooksService.create).
 */
export const IDLE_SCAN_INTERVAL_MS = 60_000;

/**
 * Turns new events into webhook deliveries (see SCAN_EVENTS for what one step does). It
 * keeps itself going by adding its own next run, about a second on, under one job key; it
 * is started when a replica starts and when a webhook is created, and a cron run every
 * minute starts the loop again should it ever stop (the process that was to add the next
 * run died, or the database was away when it tried).
 */
@Injectable()
export class WebhookScanner implements HousekeepingTask {
  readonly name = SCAN_TASK;
  readonly cron = '* * * * *';
  readonly loop = true;
  private readonly logger = new Logger('WebhookScanner');

  constructor(
    @InjectPool() private readonly pool: Pool,
    private readonly runner: HousekeepingRunner,
  ) {
    runner.register(this);
  }

  async run(): Promise<void> {
    let interval = SCAN_INTERVAL_MS;
    try {
      if (!(await WebhooksRepository.on(this.pool).anyWebhook())) interval = IDLE_SCAN_INTERVAL_MS;
      for (let step = 0; step < MAX_STEPS_PER_RUN; step++) {
        const result = await this.step();
        if (!result || result.events < SCAN_PAGE_SIZE) break;
      }
    } catch (error) {
      // The next run tries again; a failing run retried by graphile-worker would only
      // overlap with it.
      this.logger.warn(`webhook scan failed: ${(error as Error).message}`);
    }
    await this.runner.add(
      SCAN_TASK,
      {},
      {
        jobKey: WEBHOOK_SCAN_KEY,
        runAt: new Date(Date.now() + interval),
        maxAttempts: 1,
        keepPendingTime: true,
      },
    );
  }

  /** One page, in one transaction; null when another scanner is at it. */
  step(): Promise<ScanStep | null> {
    return withTransaction(this.pool, async (client) => {
      const webhooks = WebhooksRepository.on(client);
      if (!(await webhooks.tryScanLock())) return null;
      return webhooks.scan(SCAN_PAGE_SIZE, EVENT_TYPE_KINDS, DELIVER_TASK);
    });
  }
}
