import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys: `dnb_live_` and 43 base64url characters (256 random bits). The prefix makes a
 * leaked key recognisable to people and secret scanners; only the SHA-256 of the whole key
 * is stored, so the database never holds a usable key.
 */
export const API_KEY_PREFIX = 'dnb_live_';
const API_KEY_PATTERN = /^dnb_live_[A-Za-z0-9_-]{43}$/;

/** How much of a key listings show: the prefix and the first 6 random characters. */
const SHOWN_CHARACTERS = API_KEY_PREFIX.length + 6;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function isApiKey(text: string): boolean {
  return API_KEY_PATTERN.test(text);
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function shownPrefix(key: string): string {
  return key.slice(0, SHOWN_CHARACTERS);
}
