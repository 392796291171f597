export * from './executors.repository';
export * from './job-row';
export * from './jobs.repository';
export * from './jobs.service';
export * from './notifications';
export * from './queue.errors';
export * from './queue.module';
export * as jobsSql from './jobs.sql';
export * from './terminal-hook';
