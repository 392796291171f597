export * from './health/health.controller';
export * from './health/postgres.health';
export * from './health/readiness-checks';
export * from './logging';
export * from './metrics';
export * from './observability.module';
export * from './public-route';
