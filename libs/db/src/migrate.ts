import { join } from 'node:path';
import { runner, type RunnerOption } from 'node-pg-migrate';
import { projectRoot } from './project-root';

export interface MigrateOptions {
  databaseUrl: string;
  log?: (message: string) => void;
}

/**
 * Applies every pending migration in migrations/ (plain, numbered, forward-only SQL files)
 * with node-pg-migrate. Its bookkeeping table lives in the danube schema; the run holds
 * node-pg-migrate's advisory lock, so several processes starting at once migrate once.
 */
export async function migrate({
  databaseUrl,
  log = () => undefined,
}: MigrateOptions): Promise<string[]> {
  const options: RunnerOption = {
    databaseUrl,
    dir: join(projectRoot(), 'migrations'),
    direction: 'up',
    migrationsTable: 'migrations',
    migrationsSchema: 'danube',
    createMigrationsSchema: true,
    checkOrder: true,
    singleTransaction: true,
    verbose: false,
    log,
    logger: {
      debug: () => undefined,
      info: log,
      warn: log,
      // node-pg-migrate expects 13- or 17-digit timestamp prefixes and says so for
      // our plain 0001_ numbering, which it still orders correctly; that is not an error.
      error: (message: string) => {
        if (!String(message).startsWith("Can't determine timestamp")) log(message);
      },
    },
  };
  const applied = await runner(options);
  return applied.map((migration) => migration.name);
}
