import { Inject, Injectable } from '@nestjs/common';
import { DanubeError } from '@danube/core';
import { InjectPool, withTransaction } from '@danube/db';
import type { Pool } from 'pg';
import { HousekeepingRunner } from '../housekeeping.runner';
import {
  builtInRule,
  checkRetentionPolicy,
  type EffectiveRetentionPolicy,
  type RetentionPolicy,
} from './retention-policy';
import { RetentionRepository } from './retention.repository';
import { RETENTION_OPTIONS, type RetentionOptions } from './retention-sweep.service';

/** The graphile-worker task of the sweep; also its job key, so requests coalesce. */
export const RETENTION_SWEEP_TASK = 'retention_sweep';

/** A sweep asked for is tried this many times if it fails (the database away, say). */
const SWEEP_REQUEST_ATTEMPTS = 3;

/** SQLSTATEs of a missing function or schema: graphile-worker's schema is not there. */
const NO_WORKER_SCHEMA = new Set(['42883', '3F000']);

/** Tenants' retention policies, and sweeps asked for now (the API's side of retention). */
@Injectable()
export class RetentionService {
  constructor(
    private readonly policies: RetentionRepository,
    @InjectPool() private readonly pool: Pool,
    private readonly runner: HousekeepingRunner,
    @Inject(RETENTION_OPTIONS) private readonly options: RetentionOptions,
  ) {}

  /** The tenant's policy as it applies: its default, or the built-in one, and its overrides. */
  async policy(tenant: string): Promise<EffectiveRetentionPolicy> {
    const set = await this.policies.policy(tenant);
    return {
      tenant,
      default: set.default
        ? { ...set.default, builtIn: false }
        : { ...builtInRule(this.options.defaultKeepDays), builtIn: true },
      topics: set.topics,
    };
  }

  /** Replaces the tenant's policy as a whole: a default left out means the built-in one. */
  async replacePolicy(tenant: string, policy: RetentionPolicy): Promise<EffectiveRetentionPolicy> {
    checkRetentionPolicy(policy);
    await withTransaction(this.pool, (client) =>
      RetentionRepository.on(client).replacePolicy(tenant, policy),
    );
    return this.policy(tenant);
  }

  /**
   * Asks for a sweep now, run by whichever replica runs chores. A pending sweep (the next
   * cron run, an earlier request) is moved to now rather than joined by a second.
   */
  async requestSweep(): Promise<void> {
    const options = { jobKey: RETENTION_SWEEP_TASK, maxAttempts: SWEEP_REQUEST_ATTEMPTS };
    if (this.runner.enabled) {
      await this.runner.add(RETENTION_SWEEP_TASK, {}, options);
      return;
    }
    try {
      await this.policies.addSweepJob(RETENTION_SWEEP_TASK, SWEEP_REQUEST_ATTEMPTS);
    } catch (error) {
      if (!NO_WORKER_SCHEMA.has((error as { code?: string }).code ?? '')) throw error;
      throw new DanubeError(
        'failed_precondition',
        'no API replica has run background chores on this database: start one with DANUBE_HOUSEKEEPING=on to sweep',
      );
    }
  }
}
