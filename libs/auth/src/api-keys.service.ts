import { Injectable } from '@nestjs/common';
import { DanubeError, InvalidArgumentError, NotFoundError, isId } from '@danube/core';
import { generateApiKey, hashApiKey, isApiKey, shownPrefix } from './api-key';
import { ApiKeysRepository } from './api-keys.repository';
import { DEFAULT_TENANT, ROLES, type Principal, type Role } from './principal';
import type { ApiKeyRecord } from './records';
import { TenantsRepository } from './tenants.repository';

/** Creates, checks, lists and revokes API keys. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly tenants: TenantsRepository,
  ) {}

  /** A new key; the only time its plaintext exists outside the caller's hands. */
  async create(
    request: { tenant: string; name: string; role: Role; expiresAt: Date | null },
    createdBy: Principal | null,
  ): Promise<{ record: ApiKeyRecord; key: string }> {
    if (!ROLES.includes(request.role)) {
      throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`, { field: 'role' });
    }
    if (request.expiresAt && request.expiresAt.getTime() <= Date.now()) {
      throw new InvalidArgumentError('expiresAt must be in the future', { field: 'expiresAt' });
    }
    if (!(await this.tenants.find(request.tenant))) {
      throw new DanubeError(
        'not_found',
        `tenant ${request.tenant} does not exist; create it first (POST /v1/tenants)`,
        { field: 'tenant' },
      );
    }
    const key = generateApiKey();
    const record = await this.keys.insert({
      tenant: request.tenant,
      name: request.name,
      role: request.role,
      prefix: shownPrefix(key),
      hash: hashApiKey(key),
      createdBy: createdBy?.keyId ?? null,
      expiresAt: request.expiresAt,
    });
    return { record, key };
  }

  /**
   * Stores `key`, given from outside (DANUBE_ADMIN_KEY), as an admin key of the default
   * tenant unless it is stored already: how a deployment gets its first key.
   */
  async adopt(key: string, name: string): Promise<void> {
    if (!isApiKey(key)) {
      throw new InvalidArgumentError(
        "DANUBE_ADMIN_KEY is not a Danube API key (dnb_live_ and 43 base64url characters); make one with `node -e \"console.log('dnb_live_'+require('crypto').randomBytes(32).toString('base64url'))\"`",
      );
    }
    if (await this.keys.findUsable(hashApiKey(key))) return;
    await this.keys.insert({
      tenant: DEFAULT_TENANT,
      name,
      role: 'admin',
      prefix: shownPrefix(key),
      hash: hashApiKey(key),
      createdBy: null,
      expiresAt: null,
    });
  }

  /** The caller a key stands for, or null for an unknown, revoked or expired key. */
  async authenticate(key: string): Promise<Principal | null> {
    if (!isApiKey(key)) return null;
    const record = await this.keys.findUsable(hashApiKey(key));
    if (!record) return null;
    return {
      keyId: record.id,
      tenant: record.tenant,
      role: record.role,
      keyPrefix: record.prefix,
    };
  }

  list(tenant: string | null): Promise<ApiKeyRecord[]> {
    return this.keys.list(tenant);
  }

  async revoke(id: string): Promise<ApiKeyRecord> {
    if (!isId(id)) throw new NotFoundError('API key', id);
    const record = await this.keys.revoke(id);
    if (!record) throw new NotFoundError('API key', id);
    return record;
  }
}
