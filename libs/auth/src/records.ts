import type { Role } from './principal';

/** An API key as stored: never the key itself. */
export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** A tenant's limits; null (or a class missing from maxRunningByClass) means no limit. */
export interface Quotas {
  maxRunning: number | null;
  maxRunningByClass: Record<string, number>;
  maxQueued: number | null;
  maxTimeoutSeconds: number | null;
}

export interface TenantRecord {
  name: string;
  quotas: Quotas;
  createdAt: Date;
}

export interface ImageRuleRecord {
  id: string;
  tenant: string;
  topic: string | null;
  pattern: string;
  pullSecret: string | null;
  createdAt: Date;
}

export interface AuditRecord {
  id: string;
  at: Date;
  keyId: string | null;
  tenant: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}
