import { generateApiKey } from '../../libs/auth/src/api-key';

/**
 * The admin key of each API a test started, by its URL's origin: http() and readSse()
 * send it unless the test sets its own Authorization header, so tests that are not about
 * auth read as before, against an API with auth on.
 */
const keysByOrigin = new Map<string, string>();

export function newAdminKey(): string {
  return generateApiKey();
}

export function rememberApiKey(url: string, key: string): void {
  keysByOrigin.set(new URL(url).origin, key);
}

/** The Authorization header for `url`'s API, unless `headers` has one (any case). */
export function withApiKey(
  url: string,
  headers: Record<string, string> = {},
): Record<string, string> {
  if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) return headers;
  const key = keysByOrigin.get(new URL(url).origin);
  return key ? { authorization: `Bearer ${key}`, ...headers } : headers;
}
