import { Injectable } from '@nestjs/common';
import { Repository } from '@danube/db';
import type { SealedSecret } from './secret-cipher';
import * as sql from './secrets.sql';

/** A secret as stored: never its value, only its sealed form. */
export interface StoredSecret {
  name: string;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

/** danube.secrets: the statements of secrets.sql.ts. */
@Injectable()
export class SecretsRepository extends Repository {
  /** Creates or replaces; `created` tells which. */
  async upsert(
    tenant: string,
    name: string,
    sealed: SealedSecret,
  ): Promise<StoredSecret & { created: boolean }> {
    const { rows } = await this.db.query<{
      name: string;
      created_at: Date;
      updated_at: Date;
      created: boolean;
    }>(sql.UPSERT_SECRET, [
      name,
      sealed.keyId,
      sealed.nonce,
      sealed.ciphertext,
      sealed.authTag,
      tenant,
    ]);
    const row = rows[0]!;
    return {
      name: row.name,
      keyId: sealed.keyId,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      created: row.created,
    };
  }

  async list(tenant: string): Promise<StoredSecret[]> {
    const { rows } = await this.db.query<{
      name: string;
      key_id: string;
      created_at: Date;
      updated_at: Date;
    }>(sql.LIST_SECRETS, [tenant]);
    return rows.map((r) => ({
      name: r.name,
      keyId: r.key_id,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  /** false when there was no such secret. */
  async delete(tenant: string, name: string): Promise<boolean> {
    const { rowCount } = await this.db.query(sql.DELETE_SECRET, [name, tenant]);
    return rowCount !== 0;
  }

  /** The sealed secrets of `names` that exist, by name. */
  async sealed(tenant: string, names: readonly string[]): Promise<Map<string, SealedSecret>> {
    const { rows } = await this.db.query<{
      name: string;
      key_id: string;
      nonce: Buffer;
      ciphertext: Buffer;
      auth_tag: Buffer;
    }>(sql.SELECT_SEALED_SECRETS, [names, tenant]);
    return new Map(
      rows.map((r) => [
        r.name,
        { keyId: r.key_id, nonce: r.nonce, ciphertext: r.ciphertext, authTag: r.auth_tag },
      ]),
    );
  }
}
