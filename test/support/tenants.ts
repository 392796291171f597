import { http, type TestApi } from './api';

/**
 * Creates a tenant (with quotas) and a key of `role` in it through the REST API, with the
 * API's admin key; returns the new key.
 */
export async function tenantWithKey(
  api: Pick<TestApi, 'url'>,
  tenant: string,
  options: { role?: 'admin' | 'member' | 'viewer'; quotas?: Record<string, unknown> } = {},
): Promise<string> {
  const created = await http('POST', `${api.url}/v1/tenants`, {
    name: tenant,
    ...(options.quotas && { quotas: options.quotas }),
  });
  if (created.status !== 201 && created.status !== 409) {
    throw new Error(`POST /v1/tenants: ${created.status} ${JSON.stringify(created.body)}`);
  }
  return keyFor(api, tenant, options.role ?? 'member');
}

/** A new key of `role` in `tenant`. */
export async function keyFor(
  api: Pick<TestApi, 'url'>,
  tenant: string,
  role: 'admin' | 'member' | 'viewer',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const key = await http('POST', `${api.url}/v1/api-keys`, {
    name: `${tenant}-${role}`,
    tenant,
    role,
    ...extra,
  });
  if (key.status !== 201)
    throw new Error(`POST /v1/api-keys: ${key.status} ${JSON.stringify(key.body)}`);
  return key.body.key;
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
