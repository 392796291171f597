import { Injectable } from '@nestjs/common';
import type { JobStatus } from '@danube/core';
import { ExecutorsRepository, type ExecutorRecord } from './executors.repository';
import { JobsRepository } from './jobs.repository';

/** The fleet as users see it: topics with their job counts, and the executors serving them. */
@Injectable()
export class FleetService {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly executors: ExecutorsRepository,
  ) {}

  /** The topics `tenant` has jobs on, with its job counts and the live executors serving each. */
  async topics(tenant: string): Promise<
    {
      topic: string;
      counts: Partial<Record<JobStatus, number>>;
      executors: string[];
    }[]
  > {
    const byTopic = new Map<string, Partial<Record<JobStatus, number>>>();
    for (const { topic, status, count } of await this.jobs.countByTopic(tenant)) {
      const counts = byTopic.get(topic) ?? {};
      counts[status] = count;
      byTopic.set(topic, counts);
    }
    const serving = await this.executors.liveByTopic([...byTopic.keys()]);
    return [...byTopic.entries()].map(([topic, counts]) => ({
      topic,
      counts,
      executors: serving.get(topic) ?? [],
    }));
  }

  /**
   * What a submitter should know about jobs on `topics`: one warning per topic that no live
   * executor serves, since its jobs will wait until one does.
   */
  async submitWarnings(topics: Iterable<string>): Promise<string[]> {
    const wanted = [...new Set(topics)];
    const serving = await this.executors.liveByTopic(wanted);
    return wanted
      .filter((topic) => !serving.has(topic))
      .map(
        (topic) =>
          `no live executor serves topic ${JSON.stringify(topic)}; the job will wait until one does (start one with EXECUTOR_TOPICS=${topic})`,
      );
  }

  /** Every registered executor, `lost` once its heartbeat is older than its lease. */
  executorList(): Promise<ExecutorRecord[]> {
    return this.executors.list();
  }
}
