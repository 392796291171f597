import { Injectable } from '@nestjs/common';
import { DanubeError, InvalidArgumentError, NotFoundError, isId } from '@danube/core';
import type { Queryable } from '@danube/db';
import { IMAGE_PATTERN, IMAGE_PATTERN_RULE, imageMatches } from './image-pattern';
import { TENANT_NAME_PATTERN, TENANT_NAME_RULE } from './principal';
import type { ImageRuleRecord, Quotas, TenantRecord } from './records';
import { TenantsRepository } from './tenants.repository';

export const NO_QUOTAS: Quotas = {
  maxRunning: null,
  maxRunningByClass: {},
  maxQueued: null,
  maxTimeoutSeconds: null,
};

/** What admission needs of a job about to be stored (a JobInsert of @danube/queue). */
export interface AdmittedJob {
  tenant: string;
  topic: string;
  timeout_seconds: number;
  spec: { image?: string; imagePullSecret?: string };
}

/**
 * Tenants, their quotas and image rules, and admission: what a tenant may submit. Running
 * caps are enforced by the claim (danube.claim_jobs), not here.
 */
@Injectable()
export class TenantsService {
  constructor(private readonly tenants: TenantsRepository) {}

  async create(name: string, quotas: Partial<Quotas>): Promise<TenantRecord> {
    if (!TENANT_NAME_PATTERN.test(name)) {
      throw new InvalidArgumentError(`name must be ${TENANT_NAME_RULE}`, { field: 'name' });
    }
    const created = await this.tenants.insert(name, { ...NO_QUOTAS, ...quotas });
    if (!created) {
      throw new DanubeError('conflict', `tenant ${name} exists already`, { field: 'name' });
    }
    return created;
  }

  async get(name: string): Promise<TenantRecord> {
    const tenant = await this.tenants.find(name);
    if (!tenant) throw new NotFoundError('tenant', name);
    return tenant;
  }

  list(): Promise<TenantRecord[]> {
    return this.tenants.list();
  }

  async setQuotas(name: string, changes: Partial<Quotas>): Promise<TenantRecord> {
    const tenant = await this.tenants.updateQuotas(name, changes);
    if (!tenant) throw new NotFoundError('tenant', name);
    return tenant;
  }

  async addImageRule(rule: {
    tenant: string;
    topic: string | null;
    pattern: string;
    pullSecret: string | null;
  }): Promise<ImageRuleRecord> {
    if (!IMAGE_PATTERN.test(rule.pattern)) {
      throw new InvalidArgumentError(`pattern must be ${IMAGE_PATTERN_RULE}`, { field: 'pattern' });
    }
    await this.get(rule.tenant);
    return this.tenants.insertImageRule(rule);
  }

  async imageRules(tenant: string): Promise<ImageRuleRecord[]> {
    await this.get(tenant);
    return this.tenants.imageRules(tenant);
  }

  async removeImageRule(tenant: string, id: string): Promise<ImageRuleRecord> {
    const removed = isId(id) ? await this.tenants.deleteImageRule(tenant, id) : null;
    if (!removed) throw new NotFoundError('image rule', id);
    return removed;
  }

  /**
   * Checks jobs against their tenant's limits before they are stored, in the transaction
   * `client` that stores them: the job timeout cap and the image rules (each a 422 naming
   * the job's field), and the queued-jobs cap (a 429; submissions to a capped tenant take
   * turns until the transaction ends, so concurrent ones cannot overshoot it). A job whose
   * image matched a rule with a pull secret gets it in its spec. `field(i)` names job i in
   * messages (`jobs[3].`, `nodes[0].`).
   */
  async admit(client: Queryable, jobs: AdmittedJob[], field: (i: number) => string): Promise<void> {
    const repository = TenantsRepository.on(client);
    const byTenant = new Map<string, number[]>();
    jobs.forEach((job, i) => byTenant.set(job.tenant, [...(byTenant.get(job.tenant) ?? []), i]));
    for (const [name, indexes] of byTenant) {
      const tenant = await repository.find(name);
      if (!tenant) {
        throw new DanubeError('failed_precondition', `tenant ${name} does not exist`);
      }
      const { maxTimeoutSeconds, maxQueued } = tenant.quotas;
      const rules = await repository.imageRules(name);
      for (const i of indexes) {
        const job = jobs[i]!;
        if (maxTimeoutSeconds !== null && job.timeout_seconds > maxTimeoutSeconds) {
          throw new DanubeError(
            'failed_precondition',
            `${field(i)}timeoutSeconds ${job.timeout_seconds} is above tenant ${name}'s limit of ${maxTimeoutSeconds} seconds`,
            { field: `${field(i)}timeoutSeconds`, limit: maxTimeoutSeconds },
          );
        }
        if (job.spec.image !== undefined && rules.length > 0) {
          this.checkImage(job, rules, field(i));
        }
      }
      if (maxQueued !== null) {
        await repository.lockSubmissions(name);
        const queued = await repository.countQueued(name, maxQueued + 1);
        if (queued + indexes.length > maxQueued) {
          throw new DanubeError(
            'resource_exhausted',
            `tenant ${name} may have at most ${maxQueued} queued jobs; it has ${queued >= maxQueued ? `${maxQueued} or more` : queued} and this request adds ${indexes.length}. Wait for some to start, or ask an admin to raise maxQueued`,
            { limit: maxQueued },
          );
        }
      }
    }
  }

  private checkImage(job: AdmittedJob, rules: ImageRuleRecord[], field: string): void {
    const image = job.spec.image!;
    const applicable = rules.filter((r) => r.topic === null || r.topic === job.topic);
    const match = applicable.find((r) => imageMatches(r.pattern, image));
    if (match) {
      if (match.pullSecret) job.spec.imagePullSecret = match.pullSecret;
      return;
    }
    const allowed = applicable.map((r) => `${r.pattern} (rule ${r.id})`).join(', ');
    throw new DanubeError(
      'failed_precondition',
      `${field}image ${JSON.stringify(image)} is not allowed for tenant ${job.tenant} on topic ${job.topic}: ${allowed ? `its image rules allow ${allowed}` : 'no image rule covers this topic'}`,
      { field: `${field}image`, image },
    );
  }
}
