import { createHmac, randomBytes } from 'node:crypto';

/** The prefix of every signing secret, so that one is recognised wherever it is pasted. */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** A new signing secret: 256 random bits. */
export function newSigningSecret(): string {
  return `${SIGNING_SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * The Danube-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC keyed by
 * the secret as it was shown (its UTF-8 bytes) over `<t>.<body>`. The time is signed with
 * the body so that a receiver can refuse an old request replayed; `v1` names the scheme so
 * that another can be added beside it later without breaking receivers.
 */
export function signatureHeader(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}
