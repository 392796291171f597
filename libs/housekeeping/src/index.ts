export * from './graphile-worker';
export * from './housekeeping-task';
export * from './housekeeping.module';
export * from './housekeeping.runner';
export * from './webhooks';
export * from './retention';
export * from './schedules';
