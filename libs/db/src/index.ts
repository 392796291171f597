export * from './database-errors';
export * from './db.module';
export * from './embedded-postgres';
export * from './migrate';
export * from './pool';
export * from './project-root';
export * from './repository';
export * from './transaction';
