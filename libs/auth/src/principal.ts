/**
 * Roles, from least to most: a viewer reads its tenant's jobs; a member also submits,
 * cancels and retries them and manages its tenant's secrets; an admin also manages
 * tenants, quotas, image rules and keys across tenants and reads usage and the audit log
 * of every tenant.
 */
export const ROLES = ['viewer', 'member', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Who is calling: the key's id (null when auth is off), its tenant and its role. */
export interface Principal {
  keyId: string | null;
  tenant: string;
  role: Role;
  /** The key's shown prefix, for messages and logs. */
  keyPrefix: string | null;
}

export const DEFAULT_TENANT = 'default';

/** Everyone, when DANUBE_AUTH=off: an admin of the default tenant. */
export const AUTH_OFF_PRINCIPAL: Principal = {
  keyId: null,
  tenant: DEFAULT_TENANT,
  role: 'admin',
  keyPrefix: null,
};

/** Tenant names: lower-case letters, digits and dashes, as in a DNS label. */
export const TENANT_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const TENANT_NAME_RULE =
  'lower-case letters, digits and dashes, 1-63 characters, starting and ending with a letter or digit';
