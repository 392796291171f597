export * from './run-main';
export * from './listen';
