import { Injectable } from '@nestjs/common';
import type { JobStatus } from '@danube/core';
import { ExecutorsRepository, type ExecutorRecord } from './executors.repository';
import { JobsRepository } from './jobs.repository';

/** How long a heartbeat may be missing before an executor is called lost. */
export const LOST_AFTER_MS = 60_000;

/** The fleet as users see it: topics with their job counts, and the executors serving them. */
@Injectable()
export class FleetService {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly executors: ExecutorsRepository,
  ) {}

  /** The topics `tenant` has jobs on, with its job counts. */
  async topics(
    tenant: string,
  ): Promise<{ topic: string; counts: Partial<Record<JobStatus, number>> }[]> {
    const byTopic = new Map<string, Partial<Record<JobStatus, number>>>();
    for (const { topic, status, count } of await this.jobs.countByTopic(tenant)) {
      const counts = byTopic.get(topic) ?? {};
      counts[status] = count;
      byTopic.set(topic, counts);
    }
    return [...byTopic.entries()].map(([topic, counts]) => ({ topic, counts }));
  }

  /** Every registered executor, `lost` when its heartbeat is older than a minute. */
  executorList(): Promise<ExecutorRecord[]> {
    return this.executors.list(LOST_AFTER_MS);
  }
}
