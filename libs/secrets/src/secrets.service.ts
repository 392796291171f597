import { Inject, Injectable } from '@nestjs/common';
import {
  DanubeError,
  InvalidArgumentError,
  NotFoundError,
  SECRET_NAME_PATTERN,
  SECRET_NAME_RULE,
} from '@danube/core';
import { SECRET_KEY_HELP, type Keyring } from './keyring';
import { openSecret, sealSecret } from './secret-cipher';
import { SecretsRepository, type StoredSecret } from './secrets.repository';

/** The process's keyring, or null when DANUBE_SECRET_KEY is not set. */
export const KEYRING = Symbol('KEYRING');

export const MAX_SECRET_BYTES = 64 * 1024;

/** What the API shows of a secret: never its value. */
export type SecretInfo = StoredSecret;

/** Stores secrets encrypted (see secret-cipher.ts) and hands them out decrypted to jobs. */
@Injectable()
export class SecretsService {
  constructor(
    private readonly secrets: SecretsRepository,
    @Inject(KEYRING) private readonly keyring: Keyring | null,
  ) {}

  async put(
    tenant: string,
    name: string,
    value: string,
  ): Promise<SecretInfo & { created: boolean }> {
    checkName(name, 'name');
    if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) {
      throw new DanubeError(
        'payload_too_large',
        `value is larger than ${MAX_SECRET_BYTES} bytes; store large files as artifacts instead`,
        { field: 'value' },
      );
    }
    return this.secrets.upsert(
      tenant,
      name,
      sealSecret(this.requireKeyring(), boundName(tenant, name), value),
    );
  }

  list(tenant: string): Promise<SecretInfo[]> {
    return this.secrets.list(tenant);
  }

  async delete(tenant: string, name: string): Promise<void> {
    checkName(name, 'name');
    if (!(await this.secrets.delete(tenant, name))) throw new NotFoundError('secret', name);
  }

  /**
   * The values of `names`, decrypted. A name that has no secret is missing from the map;
   * callers decide what that means for them.
   */
  async reveal(tenant: string, names: readonly string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const keyring = this.requireKeyring();
    const sealed = await this.secrets.sealed(tenant, names);
    return new Map(
      [...sealed.entries()].map(([name, secret]) => [
        name,
        openSecret(keyring, boundName(tenant, name), secret),
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

/**
 * What a ciphertext is bound to (its additional authenticated data): the tenant and the
 * name, so that a row copied to another tenant or name fails its integrity check. The
 * default tenant's secrets are bound to the name alone, as they were before tenants.
 */
function boundName(tenant: string, name: string): string {
  return tenant === 'default' ? name : `${tenant}\u0000${name}`;
}

export function checkName(name: string, field: string): void {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(`${field} must be ${SECRET_NAME_RULE}`, { field });
  }
}
