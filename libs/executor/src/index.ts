export * from './attempt-writer';
export * from './executor.config';
export * from './executor.service';
export * from './job-runner';
export * from './runtime-factory';
export * from './wakeup';
export * from './executor.module';
