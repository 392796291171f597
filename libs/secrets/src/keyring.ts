import { hkdfSync, randomBytes } from 'node:crypto';

export interface MasterKey {
  /** Stored next to what the key protects, so that an older key can still be found. */
  id: string;
  material: Buffer;
}

/** What each derived key is for; a key derived for one purpose is useless for the other. */
export type KeyPurpose = 'secrets' | 'job-tokens';

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;

export const SECRET_KEY_HELP =
  'DANUBE_SECRET_KEY is <key id>:<base64 of 32 random bytes>, e.g. "k1:$(openssl rand -base64 32)"; ' +
  'to rotate, put the new key first and keep the old ones after it, comma-separated';

/**
 * The master keys from DANUBE_SECRET_KEY. The first one is current: it encrypts new
 * secrets and signs new job tokens; the others only decrypt and verify what older keys
 * made, until everything has been re-written under the current one.
 */
export class Keyring {
  private readonly keys: Map<string, MasterKey>;
  private readonly derived = new Map<string, Buffer>();

  constructor(keys: MasterKey[]) {
    if (keys.length === 0) throw new Error(`no keys given. ${SECRET_KEY_HELP}`);
    this.keys = new Map(keys.map((k) => [k.id, k]));
    if (this.keys.size !== keys.length) throw new Error(`a key id repeats. ${SECRET_KEY_HELP}`);
    this.current = keys[0]!;
  }

  readonly current: MasterKey;

  /** Parses DANUBE_SECRET_KEY; the error says what is wrong without echoing key material. */
  static parse(value: string): Keyring {
    const keys = value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part, i) => {
        const colon = part.indexOf(':');
        const id = colon > 0 ? part.slice(0, colon) : '';
        if (!KEY_ID_PATTERN.test(id)) {
          throw new Error(
            `key ${i + 1}: the key id must be 1-32 letters, digits, _ or -. ${SECRET_KEY_HELP}`,
          );
        }
        const material = Buffer.from(part.slice(colon + 1), 'base64');
        if (material.length !== KEY_BYTES) {
          throw new Error(
            `key "${id}": the key must be ${KEY_BYTES} bytes of base64, not ${material.length}. ${SECRET_KEY_HELP}`,
          );
        }
        return { id, material };
      });
    return new Keyring(keys);
  }

  /** A fresh key in DANUBE_SECRET_KEY form (for a laptop's `npm start`). */
  static generate(id = `local-${Date.now().toString(36)}`): string {
    return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  /** The 32-byte key for `purpose` derived (HKDF-SHA256) from master key `keyId`. */
  derive(keyId: string, purpose: KeyPurpose): Buffer {
    const cacheKey = `${keyId}\u0000${purpose}`;
    let key = this.derived.get(cacheKey);
    if (!key) {
      const master = this.keys.get(keyId);
      if (!master) throw new Error(`no key with id "${keyId}" in DANUBE_SECRET_KEY`);
      key = Buffer.from(hkdfSync('sha256', master.material, '', `danube ${purpose} v1`, KEY_BYTES));
      this.derived.set(cacheKey, key);
    }
    return key;
  }
}

/** DANUBE_SECRET_KEY as a Keyring (null when unset), or a configuration error saying why. */
export function loadKeyring(value: string | undefined): Keyring | null {
  if (value === undefined || value.trim() === '') return null;
  try {
    return Keyring.parse(value);
  } catch (error) {
    throw new Error(`invalid configuration: DANUBE_SECRET_KEY: ${(error as Error).message}`);
  }
}
