import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { ApiKeyRecord } from './records';
import type { Role } from './principal';
import * as sql from './api-keys.sql';

interface KeyRow {
  id: string;
  tenant: string;
  name: string;
  role: Role;
  prefix: string;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

function toKey(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** danube.api_keys: the statements of api-keys.sql.ts. */
@Injectable()
export class ApiKeysRepository extends Repository {
  async insert(key: {
    tenant: string;
    name: string;
    role: Role;
    prefix: string;
    hash: Buffer;
    createdBy: string | null;
    expiresAt: Date | null;
  }): Promise<ApiKeyRecord> {
    const { rows } = await this.db.query<KeyRow>(sql.INSERT_API_KEY, [
      key.tenant,
      key.name,
      key.role,
      key.prefix,
      key.hash,
      key.createdBy,
      key.expiresAt,
    ]);
    return toKey(rows[0]!);
  }

  async findUsable(hash: Buffer): Promise<ApiKeyRecord | null> {
    const { rows } = await this.db.query<KeyRow>(sql.SELECT_USABLE_KEY, [hash]);
    return rows[0] ? toKey(rows[0]) : null;
  }

  async list(tenant: string | null): Promise<ApiKeyRecord[]> {
    const { rows } = await this.db.query<KeyRow>(sql.LIST_API_KEYS, [tenant]);
    return rows.map(toKey);
  }

  async revoke(id: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.db.query<KeyRow>(sql.REVOKE_API_KEY, [id]);
    return rows[0] ? toKey(rows[0]) : null;
  }
}
