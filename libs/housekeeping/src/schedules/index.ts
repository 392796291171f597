import { ScheduleFirer } from './schedule-firer';
import { SchedulesRepository } from './schedules.repository';
import { SchedulesService } from './schedules.service';
import { SchedulesTick } from './schedules-tick.task';

export * from './cron-schedule';
export * from './fire-plan';
export * from './schedule-firer';
export * from './schedule-records';
export * from './schedules.repository';
export * from './schedules.service';
export * from './schedules-tick.task';

export const SCHEDULE_PROVIDERS = [
  SchedulesRepository,
  ScheduleFirer,
  SchedulesTick,
  SchedulesService,
];
