import { Module, type DynamicModule } from '@nestjs/common';
import {
  HOUSEKEEPING_OPTIONS,
  HousekeepingRunner,
  type HousekeepingOptions,
} from './housekeeping.runner';
import { SCHEDULE_PROVIDERS, SchedulesService } from './schedules';
import { WEBHOOK_PROVIDERS, WebhooksService } from './webhooks';
import { RETENTION_PROVIDERS, RetentionService } from './retention';

/**
 * The API's background chores on graphile-worker: schedules, retention, webhooks. Needs
 * DbModule and ObservabilityModule from the importing module, and `imports` for the
 * services the chores use (QueueModule, DagModule).
 */
@Module({})
export class HousekeepingModule {
  static forRoot(options: HousekeepingOptions, imports: DynamicModule[] = []): DynamicModule {
    return {
      module: HousekeepingModule,
      imports,
      providers: [
        { provide: HOUSEKEEPING_OPTIONS, useValue: options },
        HousekeepingRunner,
        ...SCHEDULE_PROVIDERS,
        ...WEBHOOK_PROVIDERS,
        ...RETENTION_PROVIDERS,
      ],
      exports: [HousekeepingRunner, SchedulesService, WebhooksService, RetentionService],
    };
  }
}
