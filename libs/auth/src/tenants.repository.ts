import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { ImageRuleRecord, Quotas, TenantRecord } from './records';
import * as sql from './tenants.sql';

interface TenantRow {
  name: string;
  max_running: number | null;
  max_running_by_class: Record<string, number>;
  max_queued: number | null;
  max_timeout_seconds: number | null;
  created_at: Date;
}

function toTenant(row: TenantRow): TenantRecord {
  return {
    name: row.name,
    quotas: {
      maxRunning: row.max_running,
      maxRunningByClass: row.max_running_by_class,
      maxQueued: row.max_queued,
      maxTimeoutSeconds: row.max_timeout_seconds,
    },
    createdAt: row.created_at,
  };
}

interface RuleRow {
  id: string;
  tenant: string;
  topic: string | null;
  pattern: string;
  pull_secret: string | null;
  created_at: Date;
}

function toRule(row: RuleRow): ImageRuleRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    topic: row.topic,
    pattern: row.pattern,
    pullSecret: row.pull_secret,
    createdAt: row.created_at,
  };
}

/** The columns behind each quota, for a partial update. */
const QUOTA_COLUMNS: Record<keyof Quotas, string> = {
  maxRunning: 'max_running',
  maxRunningByClass: 'max_running_by_class',
  maxQueued: 'max_queued',
  maxTimeoutSeconds: 'max_timeout_seconds',
};

/** danube.tenants and danube.image_rules: the statements of tenants.sql.ts. */
@Injectable()
export class TenantsRepository extends Repository {
  /** Null when a tenant of that name exists already. */
  async insert(name: string, quotas: Quotas): Promise<TenantRecord | null> {
    const { rows } = await this.db.query<TenantRow>(sql.INSERT_TENANT, [
      name,
      quotas.maxRunning,
      JSON.stringify(quotas.maxRunningByClass),
      quotas.maxQueued,
      quotas.maxTimeoutSeconds,
    ]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async find(name: string): Promise<TenantRecord | null> {
    const { rows } = await this.db.query<TenantRow>(sql.SELECT_TENANT, [name]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async list(): Promise<TenantRecord[]> {
    const { rows } = await this.db.query<TenantRow>(sql.LIST_TENANTS);
    return rows.map(toTenant);
  }

  /** Sets the quotas present in `changes`; null when there is no such tenant. */
  async updateQuotas(name: string, changes: Partial<Quotas>): Promise<TenantRecord | null> {
    const columns = Object.fromEntries(
      Object.entries(changes).map(([field, value]) => [
        QUOTA_COLUMNS[field as keyof Quotas],
        value,
      ]),
    );
    const { rows } = await this.db.query<TenantRow>(sql.UPDATE_TENANT_QUOTAS, [
      name,
      JSON.stringify(columns),
    ]);
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async insertImageRule(rule: {
    tenant: string;
    topic: string | null;
    pattern: string;
    pullSecret: string | null;
  }): Promise<ImageRuleRecord> {
    const { rows } = await this.db.query<RuleRow>(sql.INSERT_IMAGE_RULE, [
      rule.tenant,
      rule.topic,
      rule.pattern,
      rule.pullSecret,
    ]);
    return toRule(rows[0]!);
  }

  async imageRules(tenant: string): Promise<ImageRuleRecord[]> {
    const { rows } = await this.db.query<RuleRow>(sql.LIST_IMAGE_RULES, [tenant]);
    return rows.map(toRule);
  }

  async deleteImageRule(tenant: string, id: string): Promise<ImageRuleRecord | null> {
    const { rows } = await this.db.query<RuleRow>(sql.DELETE_IMAGE_RULE, [tenant, id]);
    return rows[0] ? toRule(rows[0]) : null;
  }

  /** Holds the tenant's submission lock until the transaction ends (see tenants.sql.ts). */
  async lockSubmissions(tenant: string): Promise<void> {
    await this.db.query(sql.LOCK_TENANT_SUBMISSIONS, [tenant]);
  }

  /** The tenant's queued jobs, counted up to `upTo`. */
  async countQueued(tenant: string, upTo: number): Promise<number> {
    const { rows } = await this.db.query<{ queued: number }>(sql.COUNT_QUEUED_UP_TO, [
      tenant,
      upTo,
    ]);
    return rows[0]!.queued;
  }
}
