import { Injectable } from '@nestjs/common';
import { InvalidArgumentError } from '@danube/core';
import { Repository } from '@danube/db';
import { USAGE } from './usage.sql';

export const USAGE_GROUPS = ['tenant', 'topic', 'taskClass'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageRow {
  group: string;
  jobs: number;
  attempts: number;
  runSeconds: number;
  gpuSeconds: number;
}

/** danube.executions summed up: the statement of usage.sql.ts. */
@Injectable()
export class UsageRepository extends Repository {
  async sum(from: Date, to: Date, groupBy: UsageGroup, tenant: string | null): Promise<UsageRow[]> {
    const { rows } = await this.db.query<{
      grp: string;
      jobs: number;
      attempts: number;
      run_seconds: number;
      gpu_seconds: number;
    }>(USAGE, [from, to, groupBy, tenant]);
    return rows.map((r) => ({
      group: r.grp,
      jobs: r.jobs,
      attempts: r.attempts,
      runSeconds: r.run_seconds,
      gpuSeconds: r.gpu_seconds,
    }));
  }
}

/** What tenants used: jobs, attempts, run seconds and GPU-seconds over a time range. */
@Injectable()
export class UsageService {
  constructor(private readonly usage: UsageRepository) {}

  /** `tenant` null: every tenant's (admins). The range is [from, to), by when attempts ended. */
  report(range: { from: Date; to: Date }, groupBy: UsageGroup, tenant: string | null) {
    if (range.to.getTime() <= range.from.getTime()) {
      throw new InvalidArgumentError('to must be after from', { field: 'to' });
    }
    return this.usage.sum(range.from, range.to, groupBy, tenant);
  }
}
