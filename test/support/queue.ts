import { AttemptsRepository, JobsRepository, JobsService, Notifier } from '../../libs/queue/src';
import type { TestDatabase } from './test-database';

/** The queue on a test database: the executor's and the REST repositories, and the service. */
export function queueOn(db: TestDatabase) {
  const jobs = new JobsRepository(db.pool);
  return {
    attempts: new AttemptsRepository(db.pool),
    jobs,
    service: new JobsService(db.pool, jobs, new Notifier(db.pool), {
      acceptGpuSlurm: false,
      maxBatchSize: 1000,
    }),
  };
}
