import { Module, type DynamicModule } from '@nestjs/common';
import {
  HOUSEKEEPING_OPTIONS,
  HousekeepingRunner,
  type HousekeepingOptions,
} from './housekeeping.runner';

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
      providers: [{ provide: HOUSEKEEPING_OPTIONS, useValue: options }, HousekeepingRunner],
      exports: [HousekeepingRunner],
    };
  }
}
