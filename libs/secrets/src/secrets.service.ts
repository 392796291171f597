import { Inject, Injectable } from '@nestjs/common';
import {
  DanubeError,
  InvalidArgumentError,
  NotFoundError,
  SECRET_NAME_PATTERN,
  SECRET_NAME_RULE,
} from '@danube/core';
import { InjectPool } from '@danube/db';
import type { Pool } from 'pg';
import { SECRET_KEY_HELP, type Keyring } from './keyring';
import { openSecret, sealSecret } from './secret-cipher';
import * as sql from './secrets.sql';

/** The process's keyring, or null when DANUBE_SECRET_KEY is not set. */
export const KEYRING = Symbol('KEYRING');

export const MAX_SECRET_BYTES = 64 * 1024;

/** What the API shows of a secret: never its value. */
export interface SecretInfo {
  name: string;
  keyId: string;
  createdAt: Date;
  updatedAt: Date;
}

interface SealedRow {
  name: string;
  key_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  auth_tag: Buffer;
}

/** Stores secrets encrypted (see secret-cipher.ts) and hands them out decrypted to jobs. */
@Injectable()
export class SecretsService {
  constructor(
    @InjectPool() private readonly pool: Pool,
    @Inject(KEYRING) private readonly keyring: Keyring | null,
  ) {}

  async put(name: string, value: string): Promise<SecretInfo & { created: boolean }> {
    checkName(name, 'name');
    if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) {
      throw new DanubeError(
        'payload_too_large',
        `value is larger than ${MAX_SECRET_BYTES} bytes; store large files as artifacts instead`,
        { field: 'value' },
      );
    }
    const sealed = sealSecret(this.requireKeyring(), name, value);
    const { rows } = await this.pool.query<{
      name: string;
      created_at: Date;
      updated_at: Date;
      created: boolean;
    }>(sql.UPSERT_SECRET, [name, sealed.keyId, sealed.nonce, sealed.ciphertext, sealed.authTag]);
    const row = rows[0]!;
    return {
      name: row.name,
      keyId: sealed.keyId,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      created: row.created,
    };
  }

  async list(): Promise<SecretInfo[]> {
    const { rows } = await this.pool.query<{
      name: string;
      key_id: string;
      created_at: Date;
      updated_at: Date;
    }>(sql.LIST_SECRETS);
    return rows.map((r) => ({
      name: r.name,
      keyId: r.key_id,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  async delete(name: string): Promise<void> {
    checkName(name, 'name');
    const { rowCount } = await this.pool.query(sql.DELETE_SECRET, [name]);
    if (rowCount === 0) throw new NotFoundError('secret', name);
  }

  /**
   * The values of `names`, decrypted. A name that has no secret is missing from the map;
   * callers decide what that means for them.
   */
  async reveal(names: readonly string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const keyring = this.requireKeyring();
    const { rows } = await this.pool.query<SealedRow>(sql.SELECT_SEALED_SECRETS, [names]);
    return new Map(
      rows.map((r) => [
        r.name,
        openSecret(keyring, r.name, {
          keyId: r.key_id,
          nonce: r.nonce,
          ciphertext: r.ciphertext,
          authTag: r.auth_tag,
        }),
      ]),
    );
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) {
      throw new DanubeError(
        'failed_precondition',
        `secrets are not enabled on this server: set DANUBE_SECRET_KEY. ${SECRET_KEY_HELP}`,
      );
    }
    return this.keyring;
  }
}

export function checkName(name: string, field: string): void {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(`${field} must be ${SECRET_NAME_RULE}`, { field });
  }
}
