export * from './logging';
export * from './run-main';
