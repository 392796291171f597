export * from './graphile-worker';
export * from './housekeeping-task';
export * from './housekeeping.module';
export * from './housekeeping.runner';
