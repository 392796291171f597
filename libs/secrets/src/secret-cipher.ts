import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring';

/** A secret value as stored: which key encrypted it, and the AES-256-GCM output. */
export interface SealedSecret {
  keyId: string;
  nonce: Buffer;
  ciphertext: Buffer;
  authTag: Buffer;
}

const NONCE_BYTES = 12;

/** Encrypts `value` under the current key; `name` is bound in as authenticated data. */
export function sealSecret(keyring: Keyring, name: string, value: string): SealedSecret {
  const keyId = keyring.current.id;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.derive(keyId, 'secrets'), nonce);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { keyId, nonce, ciphertext, authTag: cipher.getAuthTag() };
}

/** Decrypts a stored secret; throws when the key is missing or the data was tampered with. */
export function openSecret(keyring: Keyring, name: string, sealed: SealedSecret): string {
  if (!keyring.has(sealed.keyId)) {
    throw new Error(
      `secret "${name}" was encrypted with key "${sealed.keyId}", which DANUBE_SECRET_KEY no longer holds; add that key back after the current one`,
    );
  }
  const decipher = createDecipheriv(
    'aes-256-gcm',
    keyring.derive(sealed.keyId, 'secrets'),
    sealed.nonce,
  );
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(sealed.authTag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`secret "${name}" failed its integrity check: it was altered or moved`);
  }
}
