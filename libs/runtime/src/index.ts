export * from './inline/inline-runtime';
export * from './output-tail';
export * from './process/process-runtime';
export * from './runtime';
